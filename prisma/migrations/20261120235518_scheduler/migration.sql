-- CreateTable
CREATE TABLE "SchedulerState" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "fairness" TEXT NOT NULL,
    "caps" TEXT NOT NULL,
    "bootWorkerCap" INTEGER NOT NULL,
    "rateLimits" TEXT NOT NULL DEFAULT '{}',
    "budgets" TEXT NOT NULL DEFAULT '{}',
    "updatedAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Lane" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "repoId" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "objective" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "baseBranch" TEXT NOT NULL,
    "baseSha" TEXT,
    "worktreePath" TEXT NOT NULL,
    "engine" TEXT NOT NULL,
    "packet" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "stateVersion" INTEGER NOT NULL DEFAULT 0,
    "checks" TEXT NOT NULL DEFAULT '{}',
    "ahead" INTEGER,
    "behind" INTEGER,
    "lastExitCode" INTEGER,
    "lastEventId" INTEGER,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "queuedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "endedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "pool" TEXT NOT NULL DEFAULT 'agent',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "deadline" DATETIME,
    "queueSeq" INTEGER,
    "dependsOn" TEXT NOT NULL DEFAULT '[]',
    "dependsMode" TEXT NOT NULL DEFAULT 'wait_all',
    "artifact" TEXT,
    "budget" TEXT,
    "parentId" TEXT,
    "usedTokens" INTEGER NOT NULL DEFAULT 0,
    "usedCostUsd" REAL NOT NULL DEFAULT 0,
    "produced" TEXT,
    CONSTRAINT "Lane_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Lane" ("ahead", "attempt", "baseBranch", "baseSha", "behind", "branch", "checks", "createdAt", "endedAt", "engine", "id", "lastEventId", "lastExitCode", "objective", "packet", "queuedAt", "repoId", "slug", "startedAt", "state", "stateVersion", "updatedAt", "worktreePath") SELECT "ahead", "attempt", "baseBranch", "baseSha", "behind", "branch", "checks", "createdAt", "endedAt", "engine", "id", "lastEventId", "lastExitCode", "objective", "packet", "queuedAt", "repoId", "slug", "startedAt", "state", "stateVersion", "updatedAt", "worktreePath" FROM "Lane";
DROP TABLE "Lane";
ALTER TABLE "new_Lane" RENAME TO "Lane";
CREATE INDEX "Lane_state_queuedAt_idx" ON "Lane"("state", "queuedAt");
CREATE UNIQUE INDEX "Lane_repoId_branch_key" ON "Lane"("repoId", "branch");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
