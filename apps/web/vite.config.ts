import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dev server proxies the API and sockets to a running `nslab serve` (port 7300).
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:7300',
      '/ws': { target: 'ws://127.0.0.1:7300', ws: true },
    },
  },
});
