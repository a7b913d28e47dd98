-- AlterTable
ALTER TABLE "Worker" ADD COLUMN     "lastError" TEXT,
ADD COLUMN     "prompt" TEXT,
ADD COLUMN     "promptDeliveries" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "readyAt" TIMESTAMP(3),
ADD COLUMN     "sessionId" TEXT,
ADD COLUMN     "stateVersion" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "usage" TEXT;
