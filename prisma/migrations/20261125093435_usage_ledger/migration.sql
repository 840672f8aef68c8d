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
    "price_known" BOOLEAN NOT NULL DEFAULT true,
    "input_price" REAL,
    "cached_input_price" REAL,
    "output_price" REAL,
    "price_effective_from" DATETIME,
    "is_streaming" BOOLEAN NOT NULL DEFAULT false,
    "timestamp" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "request_time_ms" INTEGER,
    CONSTRAINT "ModelUsage_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "User" ("user_id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "ModelUsage_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "Chat" ("chat_id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_ModelUsage" ("chat_id", "completion_tokens", "cost", "model_name", "prompt_tokens", "provider", "request_time_ms", "timestamp", "total_tokens", "usage_id", "user_id") SELECT "chat_id", "completion_tokens", "cost", "model_name", "prompt_tokens", "provider", "request_time_ms", "timestamp", "total_tokens", "usage_id", "user_id" FROM "ModelUsage";
DROP TABLE "ModelUsage";
ALTER TABLE "new_ModelUsage" RENAME TO "ModelUsage";
CREATE INDEX "ModelUsage_user_id_timestamp_idx" ON "ModelUsage"("user_id", "timestamp");
CREATE INDEX "ModelUsage_chat_id_idx" ON "ModelUsage"("chat_id");
CREATE INDEX "ModelUsage_timestamp_idx" ON "ModelUsage"("timestamp");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

