import { badInput } from '../../graphql/errors';

/*
 * A conversation as either format gives it, reduced to what import keeps: a tree of nodes (some
 * without an importable message: ChatGPT's empty root, system and tool messages), each naming
 * its parent. `planChat` turns it into the rows to insert, in an order where every parent comes
 * before its children, so that their IDs keep the service's invariant (a child's ID is larger).
 */

export type Sender = 'user' | 'ai';

export type SourceNode = {
  key: string;
  parent: string | null;
  /** Null: no message to import (structural, or skipped and counted in `skipped`). */
  message: { content: string; sender: Sender; time: number | null } | null;
  /** Counted as a skipped message (a system, tool, hidden, empty or non-text one). */
  skipped: boolean;
};

export type SourceConversation = {
  title: string;
  /** Milliseconds since the epoch, or null when the source does not say. */
  createdAt: number | null;
  updatedAt: number | null;
  /** The node the source shows as current (ChatGPT's `current_node`), if any. */
  currentNode: string | null;
  nodes: SourceNode[];
  /** Where a node is in the request, for error messages: `conversations[3].mapping["abc"]`. */
  where: (key: string) => string;
  /** The name of a node's parent field in the source: `parent` (ChatGPT) or `parent_id` (ours). */
  parentField: string;
};

export type PlannedMessage = { content: string; sender: Sender; timestamp: Date; parent: number | null };

export type PlannedChat = {
  title: string;
  created_at: Date;
  last_message_at: Date;
  /** Parents before children, oldest first. */
  messages: PlannedMessage[];
  /** Index in `messages` of the active branch's leaf. */
  activeLeaf: number;
  branched: boolean;
};

/**
 * The rows of one conversation, or null when it has no importable message. Throws BAD_USER_INPUT
 * (naming where) for a parent that is not a node or a cycle of parents.
 */
export function planChat(source: SourceConversation, now: number): PlannedChat | null {
  const byKey = new Map(source.nodes.map((node, order) => [node.key, { node, order }]));
  for (const node of source.nodes) {
    if (node.parent !== null && !byKey.has(node.parent)) {
      throw badInput(`${source.where(node.key)}.${source.parentField}: no such node`);
    }
  }
  // No cycles: each node's ancestors are walked once (`done`: a node whose ancestors end at a root).
  const done = new Set<string>();
  for (const start of source.nodes) {
    const onPath = new Set<string>();
    let key: string | null = start.key;
    while (key !== null && !done.has(key)) {
      if (onPath.has(key)) throw badInput(`${source.where(key)}.${source.parentField}: forms a cycle`);
      onPath.add(key);
      key = byKey.get(key)?.node.parent ?? null;
    }
    for (const visited of onPath) done.add(visited);
  }
  // The nearest kept ancestor of each node, null for none; each walk up stops at a node already known.
  const keptAncestor = new Map<string, string | null>();
  for (const start of source.nodes) {
    const path: string[] = [];
    let key: string | null = start.key;
    let found: string | null = null;
    while (key !== null) {
      const known = keptAncestor.get(key);
      if (known !== undefined) {
        found = known;
        break;
      }
      path.push(key);
      const parent: string | null = byKey.get(key)?.node.parent ?? null;
      if (parent !== null && byKey.get(parent)?.node.message) {
        found = parent;
        break;
      }
      key = parent;
    }
    // Every node on the path but the last had no kept parent: they share the last one's answer.
    for (const visited of path) keptAncestor.set(visited, found);
  }

  const kept = source.nodes.filter((node) => node.message !== null);
  if (kept.length === 0) return null;
  const fallback = source.createdAt ?? source.updatedAt ?? now;
  // Times top-down: a message without one takes its parent's (the conversation's for a root),
  // and none is earlier than its parent's, so that sorting by time puts parents first.
  const time = new Map<string, number>();
  const depth = new Map<string, number>();
  const timeOf = (key: string): number => {
    const known = time.get(key);
    if (known !== undefined) return known;
    const parent = keptAncestor.get(key) ?? null;
    const parentTime = parent === null ? null : timeOf(parent);
    const own = byKey.get(key)?.node.message?.time ?? null;
    const value = Math.max(own ?? parentTime ?? fallback, parentTime ?? Number.NEGATIVE_INFINITY);
    time.set(key, value);
    depth.set(key, parent === null ? 0 : (depth.get(parent) ?? 0) + 1);
    return value;
  };
  // Each chain of not-yet-timed ancestors is timed parent first, so timeOf never recurses deeply.
  for (const node of kept) {
    const chain: string[] = [];
    let key: string | null = node.key;
    while (key !== null && !time.has(key)) {
      chain.push(key);
      key = keptAncestor.get(key) ?? null;
    }
    for (let i = chain.length - 1; i >= 0; i--) timeOf(chain[i] as string);
  }
  const order = (key: string) => byKey.get(key)?.order ?? 0;
  const sorted = [...kept].sort(
    (a, b) =>
      (time.get(a.key) as number) - (time.get(b.key) as number) ||
      (depth.get(a.key) as number) - (depth.get(b.key) as number) ||
      order(a.key) - order(b.key),
  );
  const index = new Map(sorted.map((node, i) => [node.key, i]));
  const children = new Array<number>(sorted.length).fill(0);
  let roots = 0;
  const messages = sorted.map((node): PlannedMessage => {
    const parentKey = keptAncestor.get(node.key) ?? null;
    const parent = parentKey === null ? null : (index.get(parentKey) as number);
    if (parent === null) roots++;
    else children[parent] = (children[parent] as number) + 1;
    const message = node.message as NonNullable<SourceNode['message']>;
    return {
      content: message.content,
      sender: message.sender,
      timestamp: new Date(time.get(node.key) as number),
      parent,
    };
  });
  let activeLeaf = -1;
  if (source.currentNode !== null) {
    const current = byKey.get(source.currentNode)?.node;
    const leafKey = current?.message ? current.key : current ? (keptAncestor.get(current.key) ?? null) : null;
    if (leafKey !== null) activeLeaf = index.get(leafKey) as number;
  }
  if (activeLeaf < 0) {
    // The latest leaf: the last in time order that has no child.
    for (let i = messages.length - 1; i >= 0; i--) {
      if (children[i] === 0) {
        activeLeaf = i;
        break;
      }
    }
  }
  const times = messages.map((m) => m.timestamp.getTime());
  return {
    title: source.title,
    created_at: new Date(source.createdAt ?? (times[0] as number)),
    last_message_at: new Date(times[times.length - 1] as number),
    messages,
    activeLeaf,
    branched: roots > 1 || children.some((n) => n > 1),
  };
}
