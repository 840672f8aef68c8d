-- AlterTable
ALTER TABLE "Chat" ADD COLUMN     "last_message_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "is_complete" BOOLEAN NOT NULL DEFAULT true;

