-- AlterTable
ALTER TABLE "Chat" ADD COLUMN     "archived" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "pinned" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "ChatTag" (
    "chat_id" INTEGER NOT NULL,
    "tag" TEXT NOT NULL,

    CONSTRAINT "ChatTag_pkey" PRIMARY KEY ("chat_id","tag")
);

-- CreateIndex
CREATE INDEX "ChatTag_tag_chat_id_idx" ON "ChatTag"("tag", "chat_id");

-- CreateIndex
CREATE INDEX "Chat_user_id_archived_created_at_idx" ON "Chat"("user_id", "archived", "created_at");

-- AddForeignKey
ALTER TABLE "ChatTag" ADD CONSTRAINT "ChatTag_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "Chat"("chat_id") ON DELETE CASCADE ON UPDATE CASCADE;

