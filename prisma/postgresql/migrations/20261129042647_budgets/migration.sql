-- AlterTable
ALTER TABLE "ModelUsage" ADD COLUMN     "api_key_id" INTEGER,
ADD COLUMN     "cost_micros" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "Budget" (
    "budget_id" SERIAL NOT NULL,
    "scope" TEXT NOT NULL,
    "user_id" INTEGER,
    "api_key_id" INTEGER,
    "subject" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "limit_micros" BIGINT NOT NULL,
    "alert_percents" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Budget_pkey" PRIMARY KEY ("budget_id")
);

-- CreateTable
CREATE TABLE "BudgetAlert" (
    "alert_id" SERIAL NOT NULL,
    "budget_id" INTEGER NOT NULL,
    "period_start" TIMESTAMP(3) NOT NULL,
    "threshold" INTEGER NOT NULL,
    "spent_micros" BIGINT NOT NULL,
    "limit_micros" BIGINT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,

    CONSTRAINT "BudgetAlert_pkey" PRIMARY KEY ("alert_id")
);

-- CreateIndex
CREATE INDEX "Budget_user_id_idx" ON "Budget"("user_id");

-- CreateIndex
CREATE INDEX "Budget_api_key_id_idx" ON "Budget"("api_key_id");

-- CreateIndex
CREATE UNIQUE INDEX "Budget_subject_period_key" ON "Budget"("subject", "period");

-- CreateIndex
CREATE INDEX "BudgetAlert_delivered_at_next_attempt_at_idx" ON "BudgetAlert"("delivered_at", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "BudgetAlert_budget_id_period_start_threshold_key" ON "BudgetAlert"("budget_id", "period_start", "threshold");

-- CreateIndex
CREATE INDEX "ModelUsage_api_key_id_timestamp_idx" ON "ModelUsage"("api_key_id", "timestamp");

-- AddForeignKey
ALTER TABLE "ModelUsage" ADD CONSTRAINT "ModelUsage_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "ApiKey"("api_key_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Budget" ADD CONSTRAINT "Budget_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "User"("user_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Budget" ADD CONSTRAINT "Budget_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "ApiKey"("api_key_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BudgetAlert" ADD CONSTRAINT "BudgetAlert_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "Budget"("budget_id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Backfill: the cost of rows written before budgets, in whole micro-dollars (rounded once, per row).
UPDATE "ModelUsage" SET "cost_micros" = ROUND(("cost" * 1000000)::numeric)::bigint;
