-- CreateTable
CREATE TABLE "BudgetSpend" (
    "budget_id" INTEGER NOT NULL,
    "period_start" TIMESTAMP(3) NOT NULL,
    "spent_micros" BIGINT NOT NULL,

    CONSTRAINT "BudgetSpend_pkey" PRIMARY KEY ("budget_id","period_start")
);

-- AddForeignKey
ALTER TABLE "BudgetSpend" ADD CONSTRAINT "BudgetSpend_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "Budget"("budget_id") ON DELETE CASCADE ON UPDATE CASCADE;

