// Create/edit form driven by the field table (GET /api/v1/fields): typed inputs, the API's
// field-level errors shown beside the field, and a 409 conflict offered as a reload.
import { useRef, useState } from 'preact/hooks';
import type { FieldSpec, FieldValue, RecordView } from '../api';
import { ApiError, FieldType } from '../api';
import { apiMessage, fieldLabel, t, valueLabel } from '../i18n';
import { groupByCategory } from './fieldview';

type FormValue = string | boolean | string[];
type FormValues = Record<string, FormValue>;

function toForm(spec: FieldSpec, v: FieldValue | undefined): FormValue {
  switch (spec.type) {
    case FieldType.Checkbox:
      return v === true;
    case FieldType.MultiPicklist:
      return Array.isArray(v) ? v : [];
    case FieldType.Countries:
      return Array.isArray(v) ? v.join(', ') : '';
    default:
      return v === undefined ? '' : String(v);
  }
}

/** The API value for a form value; undefined when the field is empty. */
function toApi(spec: FieldSpec, v: FormValue): FieldValue | undefined {
  switch (spec.type) {
    case FieldType.Checkbox:
      return v === true ? true : undefined;
    case FieldType.MultiPicklist: {
      const chosen = spec.values.filter((x) => (v as string[]).includes(x));
      return chosen.length ? chosen : undefined;
    }
    case FieldType.Countries: {
      const codes = String(v)
        .split(/[\s,;]+/)
        .map((c) => c.trim().toUpperCase())
        .filter(Boolean);
      return codes.length ? codes : undefined;
    }
    case FieldType.Number: {
      const s = String(v).trim();
      if (!s) return undefined;
      // Sent as typed: the API is the one validator, and its message is shown beside the field.
      return /^\d+$/.test(s) ? Number(s) : s;
    }
    case FieldType.Country:
      return String(v).trim().toUpperCase() || undefined;
    case FieldType.Language:
      return String(v).trim().toLowerCase() || undefined;
    case FieldType.LongText:
      return String(v).trim() ? String(v) : undefined;
    default:
      return String(v).trim() || undefined;
  }
}

function same(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export interface RecordFormProps {
  specs: FieldSpec[];
  sections: string[];
  record?: RecordView; // absent for a new record
  submitLabel?: string;
  onSave: (fields: Record<string, FieldValue | null>, version?: number) => Promise<void>;
  onCancel: () => void;
  onReload?: () => void;
}

export function RecordForm({ specs, sections, record, onSave, onCancel, onReload }: RecordFormProps) {
  // Withheld fields are neither shown nor sent: a person cannot edit what they may not read.
  const editable = specs.filter((s) => !s.system_only && !record?.redacted.includes(s.name));
  const initial = useRef<FormValues>(
    Object.fromEntries(editable.map((s) => [s.name, toForm(s, record?.fields[s.name])])),
  );
  const [values, setValues] = useState<FormValues>(initial.current);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const summaryRef = useRef<HTMLDivElement>(null);

  const set = (name: string, v: FormValue) => setValues((old) => ({ ...old, [name]: v }));

  async function submit(e: Event) {
    e.preventDefault();
    setErrors({});
    setGeneral(null);
    setConflict(false);
    const out: Record<string, FieldValue | null> = {};
    for (const spec of editable) {
      const now = toApi(spec, values[spec.name]);
      if (!record) {
        if (now !== undefined) out[spec.name] = now;
      } else {
        const before = toApi(spec, initial.current[spec.name]);
        if (!same(before, now)) out[spec.name] = now === undefined ? null : now;
      }
    }
    if (record && Object.keys(out).length === 0) {
      setGeneral(t('form.noChanges'));
      return;
    }
    setSaving(true);
    try {
      await onSave(out, record?.version);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setConflict(true);
      } else if (err instanceof ApiError && err.field && editable.some((s) => s.name === err.field)) {
        setErrors({ [err.field]: apiMessage(err.message) });
      } else if (err instanceof ApiError && err.status === 404) {
        setGeneral(t('common.notFound'));
      } else {
        setGeneral(t('common.error'));
      }
      requestAnimationFrame(() => summaryRef.current?.focus());
    } finally {
      setSaving(false);
    }
  }

  const errorNames = Object.keys(errors);
  const byId = new Map(editable.map((s) => [s.name, s]));

  return (
    <form class="record-form" onSubmit={submit} noValidate aria-busy={saving}>
      <p class="hint">{t('form.requiredNote')}</p>
      <div ref={summaryRef} tabIndex={-1} class="summary-anchor">
        {conflict && (
          <div class="notice notice-warning" role="alert" data-testid="conflict">
            <p>{t('form.conflict')}</p>
            {onReload && (
              <button type="button" class="button" onClick={onReload}>
                {t('form.reload')}
              </button>
            )}
          </div>
        )}
        {general && (
          <div class="notice notice-error" role="alert">
            {general}
          </div>
        )}
        {errorNames.length > 0 && (
          <div class="notice notice-error" role="alert" data-testid="error-summary">
            <p>{t('form.errorSummary')}</p>
            <ul>
              {errorNames.map((n) => (
                <li key={n}>
                  <a
                    href={`#f-${n}`}
                    onClick={(e) => {
                      e.preventDefault();
                      document.getElementById(`f-${n}`)?.focus();
                    }}
                  >
                    {fieldLabel(n, byId.get(n)?.label)}: {errors[n]}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {groupByCategory(editable, sections).map(([category, list]) => (
        <fieldset class="section" key={category}>
          <legend>{t(`category.${category}`)}</legend>
          <div class="field-grid">
            {list.map((spec) => (
              <FieldInput
                key={spec.name}
                spec={spec}
                value={values[spec.name]}
                error={errors[spec.name]}
                onChange={(v) => set(spec.name, v)}
              />
            ))}
          </div>
        </fieldset>
      ))}
      <div class="actions">
        <button type="submit" class="button primary" disabled={saving}>
          {saving ? t('common.saving') : t('common.save')}
        </button>
        <button type="button" class="button" onClick={onCancel} disabled={saving}>
          {t('common.cancel')}
        </button>
        {saving && <span class="spinner" role="status" aria-label={t('common.saving')}></span>}
      </div>
    </form>
  );
}

function hintKey(type: FieldType): string | null {
  switch (type) {
    case FieldType.Country:
      return 'form.hint.country';
    case FieldType.Countries:
      return 'form.hint.countries';
    case FieldType.Language:
      return 'form.hint.language';
    case FieldType.Number:
      return 'form.hint.number';
    default:
      return null;
  }
}

function FieldInput({
  spec,
  value,
  error,
  onChange,
}: {
  spec: FieldSpec;
  value: FormValue;
  error?: string;
  onChange: (v: FormValue) => void;
}) {
  const id = `f-${spec.name}`;
  const label = fieldLabel(spec.name, spec.label);
  const hk = hintKey(spec.type);
  const describedBy = [hk ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const errorEl = error ? (
    <p class="field-error" id={`${id}-error`} data-testid={`error-${spec.name}`}>
      {error}
    </p>
  ) : null;
  const hint = hk ? (
    <p class="hint" id={`${id}-hint`}>
      {t(hk)}
    </p>
  ) : null;
  const common = {
    id,
    name: spec.name,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': describedBy,
  };

  if (spec.type === FieldType.Checkbox) {
    return (
      <div class={`field field-check${error ? ' has-error' : ''}`}>
        <input
          type="checkbox"
          {...common}
          checked={value === true}
          onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
        />
        <label for={id}>{label}</label>
        {errorEl}
      </div>
    );
  }
  if (spec.type === FieldType.MultiPicklist) {
    const chosen = value as string[];
    return (
      <fieldset
        class={`field field-multi wide${error ? ' has-error' : ''}`}
        id={id}
        tabIndex={-1}
        aria-describedby={describedBy}
      >
        <legend>{label}</legend>
        <div class="checks">
          {spec.values.map((v) => {
            const cid = `${id}-${v}`;
            return (
              <div class="check" key={v}>
                <input
                  type="checkbox"
                  id={cid}
                  name={spec.name}
                  value={v}
                  checked={chosen.includes(v)}
                  onChange={(e) => {
                    const on = (e.currentTarget as HTMLInputElement).checked;
                    onChange(on ? [...chosen, v] : chosen.filter((x) => x !== v));
                  }}
                />
                <label for={cid}>{valueLabel(v)}</label>
              </div>
            );
          })}
        </div>
        {errorEl}
      </fieldset>
    );
  }
  let control;
  const str = value as string;
  const onInput = (e: Event) => onChange((e.currentTarget as HTMLInputElement).value);
  switch (spec.type) {
    case FieldType.LongText:
      control = <textarea {...common} rows={4} value={str} onInput={onInput} />;
      break;
    case FieldType.Date:
      control = <input type="date" {...common} value={str} onInput={onInput} />;
      break;
    case FieldType.Number:
      control = <input type="text" inputMode="numeric" {...common} value={str} onInput={onInput} class="short" />;
      break;
    case FieldType.Picklist:
      control = (
        <select {...common} value={str} onChange={onInput}>
          <option value="">{t('form.notRecorded')}</option>
          {spec.values.map((v) => (
            <option value={v} key={v}>
              {valueLabel(v)}
            </option>
          ))}
        </select>
      );
      break;
    case FieldType.Country:
    case FieldType.Language:
      control = <input type="text" {...common} value={str} onInput={onInput} class="short" autoComplete="off" />;
      break;
    default:
      control = <input type="text" {...common} value={str} onInput={onInput} autoComplete="off" />;
  }
  const wide = spec.type === FieldType.LongText ? ' wide' : '';
  return (
    <div class={`field${wide}${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      {hint}
      {control}
      {errorEl}
    </div>
  );
}
