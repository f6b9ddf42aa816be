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
  // `npm run dev`: the API of a local `trellis serve` (make run listens on 127.0.0.1:8080).
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
});
