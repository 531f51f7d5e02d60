import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { errorInfo } from './api';
import { App } from './app';
import './styles.css';

/** Client errors (4xx) are answers, not hiccups: only network and server errors are retried. */
const retryable = (code: string) =>
  code === 'network_error' || code === 'internal_error' || code === 'service_unavailable';

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({
    // A session that ended (expired, signed out elsewhere) sends the app back to the sign-in form.
    onError: (error, query) => {
      if (query.queryKey[0] !== 'me' && errorInfo(error).code === 'unauthenticated') {
        void queryClient.invalidateQueries({ queryKey: ['me'] });
      }
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => count < 2 && retryable(errorInfo(error).code),
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
