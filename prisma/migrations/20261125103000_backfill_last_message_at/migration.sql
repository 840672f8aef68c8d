-- Chats that had messages before "last_message_at" existed: fill it in from their messages.
UPDATE "Chat" SET "last_message_at" = (
  SELECT MAX("timestamp") FROM "Message" WHERE "Message"."chat_id" = "Chat"."chat_id"
) WHERE "last_message_at" IS NULL;
