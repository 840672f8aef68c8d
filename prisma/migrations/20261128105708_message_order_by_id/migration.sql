-- DropIndex
DROP INDEX "Message_chat_id_timestamp_message_id_idx";

-- CreateIndex
CREATE INDEX "Message_chat_id_message_id_idx" ON "Message"("chat_id", "message_id");

