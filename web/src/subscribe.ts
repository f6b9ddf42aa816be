import { useEffect, useState } from 'preact/hooks';

/** Re-renders the calling component whenever one of `listeners` is notified. */
export function useRerenderOn(listeners: Set<() => void>): void {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, [listeners]);
}
