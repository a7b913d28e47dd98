"use client";
/**
 * React access to the one {@link RealtimeClient} created by app/providers.tsx.
 */
import { createContext, useContext, useSyncExternalStore } from "react";
import type { ConnectionState, RealtimeClient } from "./realtime-client";

export const RealtimeContext = createContext<RealtimeClient | null>(null);

/** The realtime client. @throws Error outside `<Providers>` (a wiring bug). */
export function useRealtime(): RealtimeClient {
  const client = useContext(RealtimeContext);
  if (!client) throw new Error("useRealtime() must be used inside <Providers>");
  return client;
}

const serverStatus = (): ConnectionState => "connecting";

/** The live connection status; "connecting" during server rendering. */
export function useConnectionStatus(): ConnectionState {
  const client = useRealtime();
  return useSyncExternalStore(client.subscribeStatus, client.getStatus, serverStatus);
}

/**
 * False while the server cannot be reached (the socket lost its connection and has not got it
 * back): actions are disabled then and the board says so. True while first connecting, so a
 * page load does not flash a warning.
 */
export function useServerReachable(): boolean {
  const status = useConnectionStatus();
  return status === "connected" || status === "connecting";
}
