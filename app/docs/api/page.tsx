import type { Metadata } from "next";
import { ApiReference, type ApiDocument } from "@/components/api-reference";
import { apiDocument } from "../../api/_lib/openapi-routes";

export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "API reference · Laneboard" };

/** The API reference: the same OpenAPI document `GET /api/v1/openapi.json` serves, rendered. */
export default function ApiReferencePage() {
  return <ApiReference doc={apiDocument() as ApiDocument} />;
}
