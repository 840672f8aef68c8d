-- AlterTable
ALTER TABLE "ModelUsage" ADD COLUMN     "cached_input_price" DOUBLE PRECISION,
ADD COLUMN     "cached_prompt_tokens" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "input_price" DOUBLE PRECISION,
ADD COLUMN     "is_streaming" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "output_price" DOUBLE PRECISION,
ADD COLUMN     "price_effective_from" TIMESTAMP(3),
ADD COLUMN     "price_known" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "reasoning_tokens" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "ModelUsage_timestamp_idx" ON "ModelUsage"("timestamp");

