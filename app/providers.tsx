"use client";
/**
 * Client-side providers: one QueryClient (high staleTime: the socket, not a timer, says when
 * data changed) and one Socket.IO connection (RealtimeClient) for the whole app.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { LaneAlerts } from "@/components/lane-alerts";
import { RealtimeClient } from "@/components/realtime-client";
import { RealtimeContext } from "@/components/realtime-context";

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5 * 60_000,
        refetchOnWindowFocus: false,
        // 4xx answers (unknown lane, bad input) will not get better by retrying.
        retry: (failureCount, err) => {
          const status = (err as { status?: number }).status ?? 0;
          return status >= 400 && status < 500 ? false : failureCount < 2;
        },
      },
    },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [realtime] = useState(() => new RealtimeClient(queryClient));
  useEffect(() => {
    realtime.start();
    return () => realtime.stop();
  }, [realtime]);
  return (
    <QueryClientProvider client={queryClient}>
      <RealtimeContext.Provider value={realtime}>
        {children}
        <LaneAlerts />
      </RealtimeContext.Provider>
    </QueryClientProvider>
  );
}
