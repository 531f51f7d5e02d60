import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Built into dist/ and served by the server at /admin. `vite` (dev) serves it with hot reload and
 * forwards /trpc to a running server (TDK_ADMIN_API_URL, default the embedded default's address).
 */
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    port: 5173,
    proxy: { '/trpc': process.env.TDK_ADMIN_API_URL ?? 'http://127.0.0.1:8787' },
  },
});
