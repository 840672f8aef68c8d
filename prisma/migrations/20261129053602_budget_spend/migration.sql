-- CreateTable
CREATE TABLE "BudgetSpend" (
    "budget_id" INTEGER NOT NULL,
    "period_start" DATETIME NOT NULL,
    "spent_micros" BIGINT NOT NULL,

    PRIMARY KEY ("budget_id", "period_start"),
    CONSTRAINT "BudgetSpend_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "Budget" ("budget_id") ON DELETE CASCADE ON UPDATE CASCADE
);

