-- AlterTable
ALTER TABLE "Lane" ADD COLUMN     "artifact" TEXT,
ADD COLUMN     "budget" TEXT,
ADD COLUMN     "deadline" TIMESTAMP(3),
ADD COLUMN     "dependsMode" TEXT NOT NULL DEFAULT 'wait_all',
ADD COLUMN     "dependsOn" TEXT NOT NULL DEFAULT '[]',
ADD COLUMN     "parentId" TEXT,
ADD COLUMN     "pool" TEXT NOT NULL DEFAULT 'agent',
ADD COLUMN     "priority" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "produced" TEXT,
ADD COLUMN     "queueSeq" INTEGER,
ADD COLUMN     "usedCostUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "usedTokens" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "SchedulerState" (
    "id" INTEGER NOT NULL,
    "fairness" TEXT NOT NULL,
    "caps" TEXT NOT NULL,
    "bootWorkerCap" INTEGER NOT NULL,
    "rateLimits" TEXT NOT NULL DEFAULT '{}',
    "budgets" TEXT NOT NULL DEFAULT '{}',
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SchedulerState_pkey" PRIMARY KEY ("id")
);
