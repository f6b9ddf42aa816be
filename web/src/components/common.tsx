import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { t } from '../i18n';

/** Sets a neutral page title: never a name or anything identifying (SECURITY.md S11). */
export function usePageTitle(key: string): void {
  const title = `${t(key)} · ${t('app.name')}`;
  useEffect(() => {
    document.title = title;
  }, [title]);
}

export function Loading({ label }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true"></span>
      {label ?? t('common.loading')}
    </p>
  );
}

export function ErrorNote({ children }: { children: ComponentChildren }) {
  return (
    <div class="notice notice-error" role="alert">
      {children}
    </div>
  );
}

export function EmptyState({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function Withheld() {
  return (
    <span class="withheld" title={t('common.withheldHint')}>
      <span aria-hidden="true" class="lock">
        ●
      </span>{' '}
      {t('common.withheld')}
      <span class="visually-hidden"> — {t('common.withheldHint')}</span>
    </span>
  );
}

export function useAsyncEffect(fn: (signal: { cancelled: boolean }) => Promise<void>, deps: unknown[]): void {
  useEffect(() => {
    const signal = { cancelled: false };
    void fn(signal);
    return () => {
      signal.cancelled = true;
    };
  }, deps);
}

type TextInputProps = { id: string; value: string; onValue: (v: string) => void; autoFocus?: boolean };

/** The password box of the login form and of every form that asks for the password again. */
export function PasswordInput({ id, value, onValue, autoFocus }: TextInputProps) {
  return (
    <input
      id={id}
      name="password"
      type="password"
      autoComplete="current-password"
      value={value}
      onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
      required
      autoFocus={autoFocus}
    />
  );
}

/** A 6-digit code from an authenticator app (RFC 6238); a space in the middle is allowed. */
export function TotpCodeInput({ id, value, onValue, autoFocus }: TextInputProps) {
  return (
    <input
      id={id}
      name="code"
      autoComplete="one-time-code"
      inputMode="numeric"
      pattern="[0-9 ]*"
      maxLength={7}
      value={value}
      onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
      required
      autoFocus={autoFocus}
    />
  );
}
