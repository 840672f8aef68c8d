import { codePoints } from '../../graphql/args';
import { badInput } from '../../graphql/errors';
import type { Sender, SourceConversation, SourceNode } from './tree';

/*
 * The two formats import accepts, checked and reduced to SourceConversations (tree.ts):
 * ChatGPT's conversations.json (an array of conversations, each a `mapping` of nodes) and this
 * service's own export (GET /chats/{id}/export: one chat with `messages`; an array of them too).
 * Anything malformed is BAD_USER_INPUT naming where it is; fields neither needs are ignored.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** How a key appears in a message: quoted, and cut short if someone sends a very long one. */
const quoted = (key: string) => JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);

const DEFAULT_TITLE = 'New Chat';
const MAX_TITLE = 200;
/** 9999-12-31T23:59:59Z: the last instant both databases and ISO 8601 years of four digits hold. */
const LATEST_SECONDS = 253_402_300_799;

export type Limits = { maxMessageLength: number };

/** Text as it can be stored (as every text input is checked): valid Unicode, no NUL. */
function checkText(text: string, where: string): string {
  if (!text.isWellFormed()) throw badInput(`${where}: must be valid Unicode text`);
  if (text.includes('\u0000')) throw badInput(`${where}: must not contain the NUL character`);
  return text;
}

function title(value: unknown, where: string): string {
  if (value === undefined || value === null) return DEFAULT_TITLE;
  if (typeof value !== 'string') throw badInput(`${where}: must be a string`);
  const trimmed = checkText(value, where).trim();
  if (trimmed === '') return DEFAULT_TITLE;
  // Titles are at most 200 characters: a longer one is cut rather than the chat refused.
  return codePoints(trimmed) <= MAX_TITLE ? trimmed : [...trimmed].slice(0, MAX_TITLE).join('').trim();
}

/** ChatGPT's times: Unix seconds, fractional. Milliseconds, or null when absent. */
function seconds(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > LATEST_SECONDS) {
    throw badInput(`${where}: must be a time in Unix seconds`);
  }
  return Math.round(value * 1000);
}

/** Our export's times: ISO 8601. Milliseconds, or null when absent. */
function isoTime(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  const ms = typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms) || ms < 0 || ms > LATEST_SECONDS * 1000) {
    throw badInput(`${where}: must be an ISO 8601 time`);
  }
  return ms;
}

function content(text: string, where: string, limits: Limits): string {
  checkText(text, where);
  if (codePoints(text) > limits.maxMessageLength) {
    throw badInput(`${where}: longer than MAX_MESSAGE_LENGTH (${limits.maxMessageLength} characters)`);
  }
  return text;
}

/** One node of a ChatGPT mapping: its message if it is one to keep, else why not. */
function chatgptNode(key: string, node: unknown, mapping: Json, where: string, limits: Limits): SourceNode {
  if (!isObject(node)) throw badInput(`${where}: must be an object`);
  const parent = node.parent ?? null;
  if (parent !== null && typeof parent !== 'string') throw badInput(`${where}.parent: must be a string or null`);
  const children = node.children ?? [];
  if (!Array.isArray(children)) throw badInput(`${where}.children: must be an array of node ids`);
  children.forEach((child, j) => {
    if (typeof child !== 'string' || !Object.hasOwn(mapping, child)) {
      throw badInput(`${where}.children[${j}]: no such node`);
    }
  });
  const message = node.message ?? null;
  if (message === null) return { key, parent, message: null, skipped: false };
  const at = `${where}.message`;
  if (!isObject(message)) throw badInput(`${at}: must be an object or null`);
  if (!isObject(message.author)) throw badInput(`${at}.author: must be an object`);
  const role = message.author.role;
  if (typeof role !== 'string') throw badInput(`${at}.author.role: must be a string`);
  if (!isObject(message.content)) throw badInput(`${at}.content: must be an object`);
  const type = message.content.content_type;
  if (typeof type !== 'string') throw badInput(`${at}.content.content_type: must be a string`);
  const time = seconds(message.create_time, `${at}.create_time`);
  const skip: SourceNode = { key, parent, message: null, skipped: true };
  // Only text is imported; images, code, tool output and the like are skipped (and counted).
  if (type !== 'text') return skip;
  const parts = message.content.parts ?? [];
  if (!Array.isArray(parts)) throw badInput(`${at}.content.parts: must be an array of strings`);
  parts.forEach((part, j) => {
    if (typeof part !== 'string') throw badInput(`${at}.content.parts[${j}]: must be a string`);
  });
  const sender: Sender | null = role === 'user' ? 'user' : role === 'assistant' ? 'ai' : null;
  const metadata = isObject(message.metadata) ? message.metadata : {};
  // A message addressed to a tool (`recipient` other than "all") is a tool call, hidden in ChatGPT.
  const toTool = typeof message.recipient === 'string' && message.recipient !== 'all';
  if (sender === null || toTool || metadata.is_visually_hidden_from_conversation === true) return skip;
  const text = content((parts as string[]).join('\n'), `${at}.content.parts`, limits);
  if (text.trim() === '') return skip;
  return { key, parent, message: { content: text, sender, time }, skipped: false };
}

function chatgptConversation(value: Json, where: string, limits: Limits): SourceConversation {
  const mapping = value.mapping;
  if (!isObject(mapping)) throw badInput(`${where}.mapping: must be an object`);
  const nodeWhere = (key: string) => `${where}.mapping[${quoted(key)}]`;
  const nodes = Object.entries(mapping).map(([key, node]) => chatgptNode(key, node, mapping, nodeWhere(key), limits));
  const current = value.current_node ?? null;
  if (current !== null && typeof current !== 'string') throw badInput(`${where}.current_node: must be a string`);
  if (current !== null && !Object.hasOwn(mapping, current)) throw badInput(`${where}.current_node: no such node`);
  return {
    title: title(value.title, `${where}.title`),
    createdAt: seconds(value.create_time, `${where}.create_time`),
    updatedAt: seconds(value.update_time, `${where}.update_time`),
    currentNode: current,
    nodes,
    where: nodeWhere,
    parentField: 'parent',
  };
}

const idOf = (value: unknown): value is number => Number.isInteger(value);

/**
 * A chat of our export. Its messages follow each other in order, as the export lists them; when
 * they carry `parent_id`s (and `message_id`s), those make the tree instead.
 */
function exportedChat(value: Json, where: string, limits: Limits): SourceConversation {
  const list = value.messages;
  if (!Array.isArray(list)) throw badInput(`${where}.messages: must be an array`);
  const nodeWhere = (key: string) => `${where}.messages[${key.split(':')[0]}]`;
  const tree = list.some((m) => isObject(m) && m.parent_id !== undefined);
  const keys = new Set<string>();
  const keyOf: string[] = [];
  const nodes = list.map((m, j): SourceNode => {
    const at = `${where}.messages[${j}]`;
    if (!isObject(m)) throw badInput(`${at}: must be an object`);
    if (typeof m.content !== 'string') throw badInput(`${at}.content: must be a string`);
    if (m.sender !== 'user' && m.sender !== 'ai') throw badInput(`${at}.sender: must be "user" or "ai"`);
    const time = isoTime(m.timestamp, `${at}.timestamp`);
    // Keys are `<index>:<message_id>`, so that errors name the index and parents find the ID.
    let key = String(j);
    let parent: string | null = j > 0 ? (keyOf[j - 1] as string) : null;
    if (tree) {
      if (!idOf(m.message_id)) throw badInput(`${at}.message_id: must be an integer (messages have parent_id)`);
      if (keys.has(String(m.message_id))) throw badInput(`${at}.message_id: repeated`);
      keys.add(String(m.message_id));
      key = `${j}:${m.message_id}`;
      const parentId = m.parent_id ?? null;
      if (parentId !== null && !idOf(parentId)) throw badInput(`${at}.parent_id: must be an integer or null`);
      parent = parentId === null ? null : `id:${parentId}`;
    }
    keyOf.push(key);
    const text = content(m.content, `${at}.content`, limits);
    const message = text.trim() === '' ? null : { content: text, sender: m.sender as Sender, time };
    return { key, parent, message, skipped: message === null };
  });
  if (tree) {
    // Parents were named by message_id: point them at their node's key.
    const byId = new Map(nodes.map((n) => [`id:${n.key.split(':')[1]}`, n.key]));
    for (const node of nodes) {
      if (node.parent !== null) node.parent = byId.get(node.parent) ?? `missing ${node.parent}`;
    }
  }
  return {
    title: title(value.title, `${where}.title`),
    createdAt: isoTime(value.created_at, `${where}.created_at`),
    updatedAt: null,
    currentNode: null,
    nodes,
    where: nodeWhere,
    parentField: 'parent_id',
  };
}

/** One conversation of either format; `where` names it in errors (`conversations[3]`). */
export function readConversation(value: unknown, where: string, limits: Limits): SourceConversation {
  if (isObject(value) && 'mapping' in value) return chatgptConversation(value, where, limits);
  if (isObject(value) && 'messages' in value) return exportedChat(value, where, limits);
  throw badInput(
    `${where}: neither a ChatGPT conversation (with "mapping") nor a chat exported by this service (with "messages")`,
  );
}

/** Neither an array of conversations nor one chat. */
export const neitherFormat = () =>
  badInput(
    'The body must be ChatGPT’s conversations.json (an array of conversations) or a chat exported by this service',
  );
