/**
 * Every route module of `/api/v1`, keyed by its OpenAPI path (`[id]` folders as `{id}`): what the
 * OpenAPI document is built from. Static imports, so the bundle holds them and nothing is
 * discovered at run time; `openapi-routes.test.ts` fails when a `route.ts` or one of its methods
 * is missing here. The document's own route is listed by its declaration (importing its module
 * here would be an import cycle).
 */
import * as board from "../v1/board/route";
import * as events from "../v1/events/route";
import * as eventsStream from "../v1/events/stream/route";
import * as lanes from "../v1/lanes/route";
import * as lanesId from "../v1/lanes/[id]/route";
import * as lanesIdAwait from "../v1/lanes/[id]/await/route";
import * as lanesIdAttempts from "../v1/lanes/[id]/attempts/route";
import * as lanesIdBudget from "../v1/lanes/[id]/budget/route";
import * as lanesIdChecks from "../v1/lanes/[id]/checks/route";
import * as lanesIdCleanup from "../v1/lanes/[id]/cleanup/route";
import * as lanesIdDiff from "../v1/lanes/[id]/diff/route";
import * as lanesIdDiffFile from "../v1/lanes/[id]/diff/file/route";
import * as lanesIdFreshness from "../v1/lanes/[id]/freshness/route";
import * as lanesIdKill from "../v1/lanes/[id]/kill/route";
import * as lanesIdLogs from "../v1/lanes/[id]/logs/route";
import * as lanesIdLogsDownload from "../v1/lanes/[id]/logs/download/route";
import * as lanesIdMerge from "../v1/lanes/[id]/merge/route";
import * as lanesIdRestart from "../v1/lanes/[id]/restart/route";
import * as lanesIdSchedule from "../v1/lanes/[id]/schedule/route";
import * as lanesIdSummary from "../v1/lanes/[id]/summary/route";
import * as lanesIdWorker from "../v1/lanes/[id]/worker/route";
import * as lanesIdWorkerError from "../v1/lanes/[id]/worker/error/route";
import * as lanesIdWorkerPrompt from "../v1/lanes/[id]/worker/prompt/route";
import * as lanesIdWorkerReady from "../v1/lanes/[id]/worker/ready/route";
import * as lanesIdWorkerTrust from "../v1/lanes/[id]/worker/trust/route";
import * as nodes from "../v1/nodes/route";
import * as processesId from "../v1/processes/[id]/route";
import * as processesIdLogs from "../v1/processes/[id]/logs/route";
import * as processesIdLogsStream from "../v1/processes/[id]/logs/stream/route";
import * as processesIdStdin from "../v1/processes/[id]/stdin/route";
import * as repos from "../v1/repos/route";
import * as reposIdPolicy from "../v1/repos/[id]/policy/route";
import * as reposIdWebhooks from "../v1/repos/[id]/webhooks/route";
import * as reposIdWebhooksWebhookId from "../v1/repos/[id]/webhooks/[webhookId]/route";
import * as schedulerBudgets from "../v1/scheduler/budgets/route";
import * as schedulerCaps from "../v1/scheduler/caps/route";
import * as schedulerLimits from "../v1/scheduler/limits/route";
import * as schedulerQueue from "../v1/scheduler/queue/route";
import * as tokens from "../v1/tokens/route";
import * as tokensId from "../v1/tokens/[id]/route";
import type { RouteDeclaration } from "./handler";
import { OPENAPI_ROUTE } from "./openapi-declaration";

/** The HTTP methods a route module may export, as Next.js names them. */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** What the index needs of a route module: its method handlers with their declarations. */
export type RouteModule = Partial<Record<HttpMethod, { readonly declaration: RouteDeclaration }>>;

export const API_ROUTES: Readonly<Record<string, RouteModule>> = {
  "/api/v1/board": board,
  "/api/v1/events": events,
  "/api/v1/events/stream": eventsStream,
  "/api/v1/lanes": lanes,
  "/api/v1/lanes/{id}": lanesId,
  "/api/v1/lanes/{id}/attempts": lanesIdAttempts,
  "/api/v1/lanes/{id}/await": lanesIdAwait,
  "/api/v1/lanes/{id}/budget": lanesIdBudget,
  "/api/v1/lanes/{id}/checks": lanesIdChecks,
  "/api/v1/lanes/{id}/cleanup": lanesIdCleanup,
  "/api/v1/lanes/{id}/diff": lanesIdDiff,
  "/api/v1/lanes/{id}/diff/file": lanesIdDiffFile,
  "/api/v1/lanes/{id}/freshness": lanesIdFreshness,
  "/api/v1/lanes/{id}/kill": lanesIdKill,
  "/api/v1/lanes/{id}/logs": lanesIdLogs,
  "/api/v1/lanes/{id}/logs/download": lanesIdLogsDownload,
  "/api/v1/lanes/{id}/merge": lanesIdMerge,
  "/api/v1/lanes/{id}/restart": lanesIdRestart,
  "/api/v1/lanes/{id}/schedule": lanesIdSchedule,
  "/api/v1/lanes/{id}/summary": lanesIdSummary,
  "/api/v1/lanes/{id}/worker": lanesIdWorker,
  "/api/v1/lanes/{id}/worker/error": lanesIdWorkerError,
  "/api/v1/lanes/{id}/worker/prompt": lanesIdWorkerPrompt,
  "/api/v1/lanes/{id}/worker/ready": lanesIdWorkerReady,
  "/api/v1/lanes/{id}/worker/trust": lanesIdWorkerTrust,
  "/api/v1/nodes": nodes,
  "/api/v1/processes/{id}": processesId,
  "/api/v1/processes/{id}/logs": processesIdLogs,
  "/api/v1/processes/{id}/logs/stream": processesIdLogsStream,
  "/api/v1/processes/{id}/stdin": processesIdStdin,
  "/api/v1/repos": repos,
  "/api/v1/repos/{id}/policy": reposIdPolicy,
  "/api/v1/repos/{id}/webhooks": reposIdWebhooks,
  "/api/v1/repos/{id}/webhooks/{webhookId}": reposIdWebhooksWebhookId,
  "/api/v1/scheduler/budgets": schedulerBudgets,
  "/api/v1/scheduler/caps": schedulerCaps,
  "/api/v1/scheduler/limits": schedulerLimits,
  "/api/v1/scheduler/queue": schedulerQueue,
  "/api/v1/tokens": tokens,
  "/api/v1/tokens/{id}": tokensId,
  "/api/v1/openapi.json": { GET: { declaration: OPENAPI_ROUTE } },
};
