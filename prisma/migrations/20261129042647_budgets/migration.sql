-- CreateTable
CREATE TABLE "Budget" (
    "budget_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "scope" TEXT NOT NULL,
    "user_id" INTEGER,
    "api_key_id" INTEGER,
    "subject" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "limit_micros" BIGINT NOT NULL,
    "alert_percents" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Budget_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "User" ("user_id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Budget_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "ApiKey" ("api_key_id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "BudgetAlert" (
    "alert_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "budget_id" INTEGER NOT NULL,
    "period_start" DATETIME NOT NULL,
    "threshold" INTEGER NOT NULL,
    "spent_micros" BIGINT NOT NULL,
    "limit_micros" BIGINT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    CONSTRAINT "BudgetAlert_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "Budget" ("budget_id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ModelUsage" (
    "usage_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER,
    "chat_id" INTEGER,
    "model_name" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "prompt_tokens" INTEGER NOT NULL,
    "completion_tokens" INTEGER NOT NULL,
    "total_tokens" INTEGER NOT NULL,
    "cached_prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "reasoning_tokens" INTEGER NOT NULL DEFAULT 0,
    "cost" REAL NOT NULL,
    "cost_micros" BIGINT NOT NULL DEFAULT 0,
    "api_key_id" INTEGER,
    "price_known" BOOLEAN NOT NULL DEFAULT true,
    "input_price" REAL,
    "cached_input_price" REAL,
    "output_price" REAL,
    "price_effective_from" DATETIME,
    "is_streaming" BOOLEAN NOT NULL DEFAULT false,
    "timestamp" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "request_time_ms" INTEGER,
    CONSTRAINT "ModelUsage_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "User" ("user_id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "ModelUsage_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "Chat" ("chat_id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "ModelUsage_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "ApiKey" ("api_key_id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_ModelUsage" ("cached_input_price", "cached_prompt_tokens", "chat_id", "completion_tokens", "cost", "input_price", "is_streaming", "model_name", "output_price", "price_effective_from", "price_known", "prompt_tokens", "provider", "reasoning_tokens", "request_time_ms", "timestamp", "total_tokens", "usage_id", "user_id") SELECT "cached_input_price", "cached_prompt_tokens", "chat_id", "completion_tokens", "cost", "input_price", "is_streaming", "model_name", "output_price", "price_effective_from", "price_known", "prompt_tokens", "provider", "reasoning_tokens", "request_time_ms", "timestamp", "total_tokens", "usage_id", "user_id" FROM "ModelUsage";
DROP TABLE "ModelUsage";
ALTER TABLE "new_ModelUsage" RENAME TO "ModelUsage";
CREATE INDEX "ModelUsage_user_id_timestamp_idx" ON "ModelUsage"("user_id", "timestamp");
CREATE INDEX "ModelUsage_api_key_id_timestamp_idx" ON "ModelUsage"("api_key_id", "timestamp");
CREATE INDEX "ModelUsage_chat_id_idx" ON "ModelUsage"("chat_id");
CREATE INDEX "ModelUsage_timestamp_idx" ON "ModelUsage"("timestamp");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

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


-- Backfill: the cost of rows written before budgets, in whole micro-dollars (rounded once, per row).
UPDATE "ModelUsage" SET "cost_micros" = CAST(ROUND("cost" * 1000000) AS INTEGER);
