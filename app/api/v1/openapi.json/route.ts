import { route } from "../../_lib/handler";
import { OPENAPI_ROUTE } from "../../_lib/openapi-declaration";
import { apiDocument } from "../../_lib/openapi-routes";

export const GET = route(async () => apiDocument(), OPENAPI_ROUTE);
