import type { Metadata } from "next";
import { Suspense } from "react";
import { LaneDetail } from "@/components/lane-detail";

export const metadata: Metadata = { title: "Lane · Laneboard" };

/** One lane in detail. `params` is a Promise in Next.js 15+; the tab in `?tab=` is read on the client (hence Suspense). */
export default async function LanePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <Suspense>
      <LaneDetail key={id} laneId={id} />
    </Suspense>
  );
}
