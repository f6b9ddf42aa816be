import { useRerenderOn } from '../subscribe';
// Message catalogs and locale-aware formatting. Every visible string goes through t();
// the language preference (not sensitive) is the only thing the app keeps in localStorage.
import en from './en.json';
import es from './es.json';

export type Lang = 'en' | 'es';
type Catalog = Record<string, string>;

const catalogs: Record<Lang, Catalog> = { en, es };
const PREF_KEY = 'trellis.lang';
const listeners = new Set<() => void>();

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(PREF_KEY);
    if (saved === 'en' || saved === 'es') return saved;
  } catch {
    /* storage may be disabled */
  }
  return navigator.language?.toLowerCase().startsWith('es') ? 'es' : 'en';
}

let current: Lang = initialLang();
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(PREF_KEY, next);
  } catch {
    /* ignore */
  }
  listeners.forEach((l) => l());
}

/** Re-renders the calling component when the language changes. */
export function useLang(): Lang {
  useRerenderOn(listeners);
  return current;
}

export function has(key: string): boolean {
  return key in catalogs[current] || key in catalogs.en;
}

export function t(key: string, params?: Record<string, string | number>): string {
  let s = catalogs[current][key] ?? catalogs.en[key];
  if (s === undefined) {
    if (import.meta.env.DEV) console.warn('missing message', key);
    s = key;
  }
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
  return s;
}

/** "ForcedLabour" -> "Forced labour", for values without a catalog entry. */
function humanize(v: string): string {
  const words = v.replace(/^[A-Z]_/, '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

export function fieldLabel(name: string, fallback?: string): string {
  const key = `field.${name}`;
  return has(key) ? t(key) : (fallback ?? name);
}

export function valueLabel(value: string): string {
  const key = `value.${value}`;
  return has(key) ? t(key) : humanize(value);
}

export function roleLabel(role: string): string {
  const key = `role.${role}`;
  return has(key) ? t(key) : humanize(role);
}

/** Translates an API field-error message when the catalog knows it; otherwise shows it as sent. */
export function apiMessage(message: string): string {
  const key = `apiError.${message}`;
  return has(key) ? t(key) : message;
}

function locale(): string {
  return current === 'es' ? 'es-US' : 'en-US';
}

/** A calendar date "YYYY-MM-DD" (no time zone shift). */
export function formatDate(ymd: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return ymd;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames([locale()], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

export function languageName(code: string): string {
  try {
    return new Intl.DisplayNames([locale()], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
