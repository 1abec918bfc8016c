// The dashboard is built into web/dist and served by the service at `/`; every asset is
// bundled, nothing is fetched from a CDN. `npm run dev:web` proxies the API to a running service.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const service = process.env.PROMO_URL ?? 'http://localhost:3000';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: { proxy: { '/v1': service, '/session': service } },
});
