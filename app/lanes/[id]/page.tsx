import type { Metadata } from "next";
import { LaneDetail } from "@/components/lane-detail";

export const metadata: Metadata = { title: "Lane · Laneboard" };

/** One lane in detail. `params` is a Promise in Next.js 15+. */
export default async function LanePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <LaneDetail key={id} laneId={id} />;
}
