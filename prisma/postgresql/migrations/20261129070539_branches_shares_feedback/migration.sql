-- AlterTable
ALTER TABLE "Chat" ADD COLUMN     "active_leaf_id" INTEGER,
ADD COLUMN     "branched" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "parent_id" INTEGER;

-- CreateTable
CREATE TABLE "ChatShare" (
    "share_id" SERIAL NOT NULL,
    "chat_id" INTEGER NOT NULL,
    "token" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "snapshot" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3),

    CONSTRAINT "ChatShare_pkey" PRIMARY KEY ("share_id")
);

-- CreateTable
CREATE TABLE "MessageFeedback" (
    "message_id" INTEGER NOT NULL,
    "chat_id" INTEGER NOT NULL,
    "rating" TEXT NOT NULL,
    "reason" TEXT,
    "comment" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MessageFeedback_pkey" PRIMARY KEY ("message_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ChatShare_token_key" ON "ChatShare"("token");

-- CreateIndex
CREATE INDEX "ChatShare_chat_id_idx" ON "ChatShare"("chat_id");

-- CreateIndex
CREATE INDEX "MessageFeedback_updated_at_idx" ON "MessageFeedback"("updated_at");

-- CreateIndex
CREATE INDEX "MessageFeedback_chat_id_idx" ON "MessageFeedback"("chat_id");

-- CreateIndex
CREATE INDEX "Message_parent_id_idx" ON "Message"("parent_id");

-- AddForeignKey
ALTER TABLE "ChatShare" ADD CONSTRAINT "ChatShare_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "Chat"("chat_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MessageFeedback" ADD CONSTRAINT "MessageFeedback_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "Message"("message_id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Backfill: every existing chat is one line of messages, each following the one before it.
UPDATE "Message" m SET "parent_id" = (
  SELECT MAX(p."message_id") FROM "Message" p WHERE p."chat_id" = m."chat_id" AND p."message_id" < m."message_id"
);
UPDATE "Chat" c SET "active_leaf_id" = (SELECT MAX(m."message_id") FROM "Message" m WHERE m."chat_id" = c."chat_id");
