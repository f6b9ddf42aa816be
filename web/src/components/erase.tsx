// "Erase this record for good" (crypto-shredding, S6): supervisors of the survivor's agency.
// The survivor's data key is destroyed, so every sealed field, evidence file and backup copy of
// them becomes unreadable; the user must type the record number to confirm.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { t } from '../i18n';
import { ErrorNote } from './common';

export function ErasePanel({ survivorId, onErased }: { survivorId: string; onErased: () => void }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const erase = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailed(false);
    try {
      await api.eraseSurvivor(survivorId);
      onErased();
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card danger-zone" aria-labelledby="erase-h" data-testid="erase-panel">
      <h2 id="erase-h">{t('erase.heading')}</h2>
      <p>{t('erase.explain')}</p>
      {!open ? (
        <button type="button" class="button danger" onClick={() => setOpen(true)}>
          {t('erase.start')}
        </button>
      ) : (
        <form onSubmit={erase} aria-busy={busy}>
          {failed && <ErrorNote>{t('erase.failed')}</ErrorNote>}
          <div class="field">
            <label for="erase-confirm">{t('erase.typeId', { id: survivorId })}</label>
            <input
              id="erase-confirm"
              autoComplete="off"
              spellcheck={false}
              value={typed}
              onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value.trim())}
              required
            />
          </div>
          <div class="row-actions">
            <button type="submit" class="button danger" disabled={busy || typed !== survivorId}>
              {t('erase.confirm')}
            </button>
            <button type="button" class="button" onClick={() => setOpen(false)} disabled={busy}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
