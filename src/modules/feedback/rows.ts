import type { Db } from '../../db/client';
import type { Prisma } from '../../generated/prisma/client';
import { badInput } from '../../graphql/errors';
import { parseInstant } from '../usage/summary';

/*
 * Feedback as exported (GET /feedback, Query.feedback_export): each row joined with what an
 * analyst needs to read it alone: the chat's owner, the question the answer replied to, the
 * answer, and the model the chat was using then. Built a page at a time with a fixed number of
 * queries per page, whatever its size.
 */

/** The limits of set_feedback's text, in characters. */
export const MAX_REASON_LENGTH = 100;
export const MAX_COMMENT_LENGTH = 2000;

export const RATINGS = ['up', 'down'] as const;
export type Rating = (typeof RATINGS)[number];

export const FEEDBACK_COLUMNS = [
  'message_id',
  'chat_id',
  'user_id',
  'rating',
  'reason',
  'comment',
  'created_at',
  'updated_at',
  'question',
  'answer',
  'model_name',
] as const;

export type FeedbackRow = {
  message_id: number;
  chat_id: number;
  user_id: number | null;
  rating: string;
  reason: string | null;
  comment: string | null;
  created_at: Date;
  updated_at: Date;
  question: string | null;
  answer: string;
  model_name: string | null;
};

export type FeedbackFilter = { from: Date | null; to: Date | null; rating: Rating | null };

/** How far up a branch the question is looked for: AI messages in a row above an answer are rare. */
const MAX_HOPS = 20;

/** `from`/`to` as given (a UTC date or an ISO instant) and `rating`, checked: BAD_USER_INPUT. */
export function feedbackFilter(args: { from?: string | null; to?: string | null; rating?: string | null }) {
  const from = args.from == null ? null : parseInstant(args.from, 'from', 'UTC');
  const to = args.to == null ? null : parseInstant(args.to, 'to', 'UTC');
  if (from && to && from >= to) throw badInput('from must be before to');
  const rating = args.rating == null ? null : args.rating.toLowerCase();
  if (rating !== null && !(RATINGS as readonly string[]).includes(rating)) throw badInput('rating: must be up or down');
  return { from, to, rating: rating as Rating | null };
}

export function whereOf(filter: FeedbackFilter): Prisma.MessageFeedbackWhereInput {
  const updated_at = { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) };
  return {
    ...(filter.from || filter.to ? { updated_at } : {}),
    ...(filter.rating ? { rating: filter.rating } : {}),
  };
}

/** The nearest `user` message above each answer, following parent_id: one query per level, for the whole page. */
async function questionsOf(db: Db, parents: Map<number, number | null>): Promise<Map<number, string | null>> {
  const found = new Map<number, string | null>();
  // answer -> the message to look at next
  let pending = new Map([...parents].filter((e): e is [number, number] => e[1] !== null));
  for (let hop = 0; hop < MAX_HOPS && pending.size > 0; hop++) {
    const rows = await db.message.findMany({
      where: { message_id: { in: [...new Set(pending.values())] } },
      select: { message_id: true, sender: true, parent_id: true, content: true },
    });
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    const next = new Map<number, number>();
    for (const [answer, at] of pending) {
      const m = byId.get(at);
      if (!m) continue;
      if (m.sender === 'user') found.set(answer, m.content);
      else if (m.parent_id !== null) next.set(answer, m.parent_id);
    }
    pending = next;
  }
  return found;
}

/**
 * The model of the latest usage row of each answer's chat at or before the answer. For the page:
 * the chats' rows between its earliest and latest answer (one query), and each chat's last row
 * before that window (one small query per chat), so a chat's long usage history is not read again
 * for every page.
 */
async function modelsOf(db: Db, answers: { message_id: number; chat_id: number; timestamp: Date }[]) {
  const models = new Map<number, string>();
  if (answers.length === 0) return models;
  const times = answers.map((a) => a.timestamp.getTime());
  const earliest = new Date(Math.min(...times));
  const latest = new Date(Math.max(...times));
  const chats = [...new Set(answers.map((a) => a.chat_id))];
  const select = { chat_id: true, timestamp: true, model_name: true } as const;
  const [window, ...before] = await Promise.all([
    db.modelUsage.findMany({
      where: { chat_id: { in: chats }, timestamp: { gte: earliest, lte: latest } },
      select,
      orderBy: [{ timestamp: 'asc' }, { usage_id: 'asc' }],
    }),
    ...chats.map((chat_id) =>
      db.modelUsage.findFirst({
        where: { chat_id, timestamp: { lt: earliest } },
        select,
        orderBy: [{ timestamp: 'desc' }, { usage_id: 'desc' }],
      }),
    ),
  ]);
  const usage = [...before.filter((u) => u !== null), ...window];
  const byChat = new Map<number, typeof usage>();
  for (const u of usage) {
    const list = byChat.get(u.chat_id as number) ?? [];
    list.push(u);
    byChat.set(u.chat_id as number, list);
  }
  for (const a of answers) {
    const list = byChat.get(a.chat_id) ?? [];
    // The last row not after the answer (binary search: rows are in time order).
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((list[mid] as (typeof list)[number]).timestamp.getTime() <= a.timestamp.getTime()) low = mid + 1;
      else high = mid;
    }
    const hit = list[low - 1];
    if (hit) models.set(a.message_id, hit.model_name);
  }
  return models;
}

/** One page of rows in message_id order: after a message_id (keyset) or skipping some. */
export async function feedbackPage(
  db: Db,
  filter: FeedbackFilter,
  page: { after?: number; skip?: number; take: number },
): Promise<FeedbackRow[]> {
  const feedback = await db.messageFeedback.findMany({
    where: { ...whereOf(filter), ...(page.after ? { message_id: { gt: page.after } } : {}) },
    orderBy: { message_id: 'asc' },
    skip: page.skip ?? 0,
    take: page.take,
    include: { message: { select: { content: true, timestamp: true, parent_id: true } } },
  });
  if (feedback.length === 0) return [];
  const chats = await db.chat.findMany({
    where: { chat_id: { in: [...new Set(feedback.map((f) => f.chat_id))] } },
    select: { chat_id: true, user_id: true },
  });
  const owners = new Map(chats.map((c) => [c.chat_id, c.user_id]));
  const questions = await questionsOf(db, new Map(feedback.map((f) => [f.message_id, f.message.parent_id])));
  const models = await modelsOf(
    db,
    feedback.map((f) => ({ message_id: f.message_id, chat_id: f.chat_id, timestamp: f.message.timestamp })),
  );
  return feedback.map((f) => ({
    message_id: f.message_id,
    chat_id: f.chat_id,
    user_id: owners.get(f.chat_id) ?? null,
    rating: f.rating,
    reason: f.reason,
    comment: f.comment,
    created_at: f.created_at,
    updated_at: f.updated_at,
    question: questions.get(f.message_id) ?? null,
    answer: f.message.content,
    model_name: models.get(f.message_id) ?? null,
  }));
}
