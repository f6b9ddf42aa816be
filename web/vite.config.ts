import { defineConfig } from 'vite';

// The app is served by `trellis serve` under a strict CSP (no inline scripts or styles),
// so the build must emit only external files: no inlined assets, no modulepreload polyfill.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
});
