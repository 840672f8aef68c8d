-- AlterTable
ALTER TABLE "Chat" ADD COLUMN "updated_at" DATETIME;

-- AlterTable
ALTER TABLE "User" ADD COLUMN "retention_days" INTEGER;

-- CreateTable
CREATE TABLE "JobLease" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "expires_at" DATETIME NOT NULL
);

