// Quick exit (SECURITY.md S18): leave for a neutral site at once, end the session, and leave
// as little behind as the browser allows.
import { api } from './api';
import { clearSession } from './session';

export const NEUTRAL_SITE = 'https://www.weather.gov/';

export function quickExit(): void {
  api.logoutBeacon(); // keepalive request: ends the server session even as the page goes away
  clearSession(null);
  try {
    sessionStorage.clear();
  } catch {
    /* ignore */
  }
  try {
    history.replaceState(null, '', '/'); // the current entry no longer names a record
  } catch {
    /* ignore */
  }
  document.title = 'Weather';
  document.body.replaceChildren(); // nothing readable while the next page loads
  location.replace(NEUTRAL_SITE);
}

/** Escape pressed three times within two seconds triggers the quick exit. */
export function installEscapeShortcut(): void {
  let presses: number[] = [];
  window.addEventListener(
    'keydown',
    (e) => {
      if (e.key !== 'Escape') return;
      const now = Date.now();
      presses = presses.filter((p) => now - p < 2000);
      presses.push(now);
      if (presses.length >= 3) quickExit();
    },
    true,
  );
  // A page restored from the back/forward cache must not show what was on it.
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) location.reload();
  });
}
