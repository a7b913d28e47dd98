-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Repo" (
    "id" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "mainBranch" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Repo_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Lane" (
    "id" TEXT NOT NULL,
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
    "queuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Lane_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Worker" (
    "id" TEXT NOT NULL,
    "laneId" TEXT NOT NULL,
    "engine" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "processId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "Worker_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Process" (
    "id" TEXT NOT NULL,
    "laneId" TEXT,
    "role" TEXT NOT NULL,
    "command" TEXT NOT NULL,
    "cwd" TEXT NOT NULL,
    "env" TEXT NOT NULL DEFAULT '{}',
    "pid" INTEGER,
    "pgid" INTEGER,
    "osStartTime" TEXT,
    "status" TEXT NOT NULL,
    "exitCode" INTEGER,
    "signal" TEXT,
    "logDir" TEXT NOT NULL,
    "stdoutPath" TEXT NOT NULL,
    "stderrPath" TEXT NOT NULL,
    "stdoutOffset" INTEGER NOT NULL DEFAULT 0,
    "stderrOffset" INTEGER NOT NULL DEFAULT 0,
    "truncatedBytes" INTEGER NOT NULL DEFAULT 0,
    "killRequestedAt" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Process_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LaneEvent" (
    "id" SERIAL NOT NULL,
    "laneId" TEXT,
    "repoId" TEXT,
    "type" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "payload" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LaneEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Repo_path_key" ON "Repo"("path");

-- CreateIndex
CREATE INDEX "Lane_state_queuedAt_idx" ON "Lane"("state", "queuedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Lane_repoId_branch_key" ON "Lane"("repoId", "branch");

-- CreateIndex
CREATE UNIQUE INDEX "Worker_processId_key" ON "Worker"("processId");

-- CreateIndex
CREATE INDEX "Worker_laneId_idx" ON "Worker"("laneId");

-- CreateIndex
CREATE INDEX "Process_laneId_idx" ON "Process"("laneId");

-- CreateIndex
CREATE INDEX "Process_status_idx" ON "Process"("status");

-- CreateIndex
CREATE INDEX "LaneEvent_laneId_id_idx" ON "LaneEvent"("laneId", "id");

-- AddForeignKey
ALTER TABLE "Lane" ADD CONSTRAINT "Lane_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Worker" ADD CONSTRAINT "Worker_laneId_fkey" FOREIGN KEY ("laneId") REFERENCES "Lane"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Process" ADD CONSTRAINT "Process_laneId_fkey" FOREIGN KEY ("laneId") REFERENCES "Lane"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LaneEvent" ADD CONSTRAINT "LaneEvent_laneId_fkey" FOREIGN KEY ("laneId") REFERENCES "Lane"("id") ON DELETE SET NULL ON UPDATE CASCADE;
