import type { Config } from '../config';

/*
 * The REST API as clients see it: every documented route, the root field that serves it and the
 * exact JSON it answers. This table is the contract; compile.ts checks it against the schema at
 * start-up, and plugin.ts serves it.
 */

/** What of a gateway's configuration shapes its routes. */
export type RouteSettings = Pick<Config, 'maxMessagesPerRead' | 'enableDebugRoutes'>;

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type RestRoute = Readonly<{
  method: Method;
  /** The path, with `:name` for path parameters. */
  path: string;
  /** The root field that serves it, e.g. `Mutation.create_chat`. */
  field: string;
  /**
   * The fields of the JSON body, in the documented order; aliases rename (`tokens: total_tokens`).
   * A function when it depends on the gateway's settings.
   */
  selection: string | ((settings: RouteSettings) => string);
  summary: string;
  /** The section of the API docs. */
  tag:
    | 'Chats'
    | 'Folders'
    | 'Messages'
    | 'Sharing'
    | 'Feedback'
    | 'Import'
    | 'Users'
    | 'Usage'
    | 'Budgets'
    | 'Admin'
    | 'Debugging';
  /** On POST/PUT, the arguments documented in the query string rather than the body. */
  query?: readonly string[];
  /** The error statuses the route documents (all routes also answer 422 for bad input). */
  errors?: readonly number[];
  /** Served only while debug routes are on. */
  debug?: boolean;
  /**
   * The field returns `{filename, content_type, content}`: answer with that file, not JSON.
   * `jsonSchema` names the OpenAPI component schema its JSON form has.
   */
  download?: Readonly<{ jsonSchema: string }>;
  /** The OpenAPI component name of the answer's object, where the GraphQL type's name is taken by another shape. */
  schema?: string;
  /** The `Cache-Control` of a successful answer (none by default). */
  cacheControl?: string;
  /** Body fields where JSON null is a value that clears (`"parent_id": null`: to the top), not "absent". */
  clearedByNull?: readonly string[];
}>;

const CHAT = 'chat_id user_id title created_at';
const MESSAGE = 'message_id chat_id content sender timestamp';
/** GET /chats/{chat_id}'s answer: one read returns at most MAX_MESSAGES_PER_READ messages (the newest). */
const chatWithMessages = ({ maxMessagesPerRead }: RouteSettings) =>
  `chat_id title created_at user_id messages(limit: ${maxMessagesPerRead}) { ${MESSAGE} }`;
const FOLDER = 'folder_id user_id name parent_id created_at';
const SHARE = 'share_id token url created_at expires_at';
const RETENTION = 'user_id days effective_days';
const ALLOWANCE = 'allowed spent_usd limit_usd remaining_usd resets_at budget_id';
const BUDGET = `budget_id scope user_id api_key_id period limit_usd alert_percents time_zone created_at updated_at
  spent_usd resets_at`;
const SUMS = 'requests prompt_tokens completion_tokens cached_prompt_tokens reasoning_tokens total_tokens cost';

/**
 * The documented REST API (the README's REST API section), and nothing else: a generic GraphQL-to-REST layer would expose every
 * root field and select every field of its type, so each route declares its exact response here.
 */
export const routes: readonly RestRoute[] = [
  {
    method: 'POST',
    path: '/chats/',
    field: 'Mutation.create_chat',
    selection: CHAT,
    summary: 'Create a new chat',
    tag: 'Chats',
  },
  {
    method: 'GET',
    path: '/chats/:chat_id',
    field: 'Query.chat',
    // One read returns at most MAX_MESSAGES_PER_READ messages (the newest); longer chats page with /messages.
    selection: chatWithMessages,
    summary: 'Retrieve a chat with its messages',
    tag: 'Chats',
    errors: [404],
    schema: 'ChatWithMessages',
  },
  { method: 'GET', path: '/chats/', field: 'Query.chats', selection: CHAT, summary: 'List recent chats', tag: 'Chats' },
  {
    method: 'GET',
    path: '/chats/search/',
    field: 'Query.search_chats',
    selection: 'chat_id user_id title created_at matches { message_id snippet timestamp }',
    summary: 'Search chats by title and message content',
    tag: 'Chats',
  },
  {
    method: 'GET',
    path: '/chats/:chat_id/messages',
    field: 'Query.chat_messages',
    selection: `items { ${MESSAGE} } next_cursor prev_cursor`,
    summary: 'Page through a chat’s messages',
    tag: 'Messages',
    errors: [404],
  },
  {
    method: 'GET',
    path: '/chats/:chat_id/export',
    field: 'Query.export_chat',
    selection: 'filename content_type content',
    summary: 'Export a chat as a JSON or Markdown file',
    tag: 'Chats',
    errors: [404],
    // The JSON file has the keys of GET /chats/{chat_id}, with every message.
    download: { jsonSchema: 'ChatExportFile' },
  },
  {
    method: 'PUT',
    path: '/chats/:chat_id',
    field: 'Mutation.update_chat',
    selection: 'chat_id title created_at user_id',
    summary: 'Update a chat: rename, move, file, tag, pin or archive it',
    tag: 'Chats',
    errors: [404],
    clearedByNull: ['folder_id'],
  },
  {
    method: 'DELETE',
    path: '/chats/:chat_id',
    field: 'Mutation.delete_chat',
    selection: 'message preserved_model_usage',
    summary: 'Delete a chat and its messages',
    tag: 'Chats',
    errors: [404],
  },
  {
    method: 'POST',
    path: '/chats/cleanup-empty',
    field: 'Mutation.cleanup_empty_chats',
    selection: 'message',
    summary: 'Delete empty chats',
    tag: 'Chats',
    errors: [403],
  },
  {
    method: 'POST',
    path: '/folders',
    field: 'Mutation.create_folder',
    selection: FOLDER,
    summary: 'Create a folder',
    tag: 'Folders',
  },
  {
    method: 'GET',
    path: '/folders',
    field: 'Query.folders',
    selection: FOLDER,
    summary: 'List a user’s folders',
    tag: 'Folders',
  },
  {
    method: 'PUT',
    path: '/folders/:folder_id',
    field: 'Mutation.update_folder',
    selection: FOLDER,
    summary: 'Rename or move a folder',
    tag: 'Folders',
    query: ['user_id'],
    errors: [404],
    clearedByNull: ['parent_id'],
  },
  {
    method: 'DELETE',
    path: '/folders/:folder_id',
    field: 'Mutation.delete_folder',
    selection: 'message moved_chats',
    summary: 'Delete a folder (its chats and sub-folders move out)',
    tag: 'Folders',
    errors: [404],
  },
  {
    method: 'PUT',
    path: '/chats/:chat_id/active-branch',
    field: 'Mutation.set_active_branch',
    selection: chatWithMessages,
    summary: 'Choose the branch of a chat that is shown and continued',
    tag: 'Messages',
    query: ['user_id'],
    errors: [404],
    schema: 'ChatWithMessages',
  },
  {
    method: 'POST',
    path: '/chats/:chat_id/messages',
    field: 'Mutation.add_message',
    selection: MESSAGE,
    summary: 'Add a message to a chat',
    tag: 'Messages',
    query: ['user_id'],
    // 429: a streamed AI answer while a budget is spent.
    errors: [404, 429],
    // `"parent_id": null` starts a new first message; absent, the message follows the active branch.
    clearedByNull: ['parent_id'],
  },
  {
    method: 'PUT',
    path: '/chats/:chat_id/messages/:message_id/feedback',
    field: 'Mutation.set_feedback',
    selection: 'message_id rating reason comment updated_at',
    summary: 'Give or replace feedback on an AI answer',
    tag: 'Feedback',
    query: ['user_id'],
    errors: [404],
  },
  {
    method: 'DELETE',
    path: '/chats/:chat_id/messages/:message_id/feedback',
    field: 'Mutation.delete_feedback',
    selection: 'message',
    summary: 'Delete the feedback on an AI answer',
    tag: 'Feedback',
    errors: [404],
  },
  {
    method: 'POST',
    path: '/chats/:chat_id/shares',
    field: 'Mutation.create_share',
    selection: SHARE,
    summary: 'Make a share link to a snapshot of a chat',
    tag: 'Sharing',
    query: ['user_id'],
    errors: [404],
  },
  {
    method: 'GET',
    path: '/chats/:chat_id/shares',
    field: 'Query.chat_shares',
    selection: SHARE,
    summary: 'List a chat’s share links',
    tag: 'Sharing',
    errors: [404],
  },
  {
    method: 'DELETE',
    path: '/chats/:chat_id/shares/:share_id',
    field: 'Mutation.revoke_share',
    selection: 'message',
    summary: 'Revoke a share link',
    tag: 'Sharing',
    errors: [404],
  },
  {
    method: 'GET',
    path: '/shared/:token',
    field: 'Query.shared_chat',
    selection: 'title shared_at messages { sender content timestamp }',
    summary: 'Read a shared chat (no authentication)',
    tag: 'Sharing',
    errors: [404],
    // The link's owner may revoke it at any moment: no cache may keep a copy.
    cacheControl: 'no-store',
  },
  {
    method: 'POST',
    path: '/chats/users',
    field: 'Mutation.create_or_get_user',
    selection: 'user_id username email created_at',
    summary: 'Create or retrieve a user',
    tag: 'Users',
  },
  {
    method: 'GET',
    path: '/users/:user_id/retention',
    field: 'Query.user_retention',
    selection: RETENTION,
    summary: 'A user’s retention policy',
    tag: 'Users',
    errors: [404],
  },
  {
    method: 'PUT',
    path: '/users/:user_id/retention',
    field: 'Mutation.set_user_retention',
    selection: RETENTION,
    summary: 'Set a user’s retention policy',
    tag: 'Users',
    errors: [403, 404],
    clearedByNull: ['days'],
  },
  {
    method: 'POST',
    path: '/admin/retention/preview',
    field: 'Query.retention_preview',
    selection: 'global_days total chats { chat_id user_id title last_activity_at retention_days }',
    summary: 'What the next retention sweep would delete',
    tag: 'Admin',
    errors: [403],
  },
  {
    method: 'POST',
    path: '/usage',
    field: 'Mutation.record_model_usage',
    selection: `usage_id user_id chat_id model_name provider prompt_tokens completion_tokens cached_prompt_tokens
      reasoning_tokens total_tokens cost price_known input_price cached_input_price output_price is_streaming
      request_time_ms timestamp allowance { ${ALLOWANCE} }`,
    summary: 'Record a model call and its cost',
    tag: 'Usage',
  },
  {
    method: 'GET',
    path: '/usage/summary',
    field: 'Query.usage_summary',
    selection: `time_zone from to group_by
      rows { model_name provider user_id chat_id day ${SUMS} }
      totals { ${SUMS} }`,
    summary: 'Usage and cost, grouped',
    tag: 'Usage',
    errors: [403],
  },
  {
    method: 'GET',
    path: '/usage/allowance',
    field: 'Query.usage_allowance',
    selection: ALLOWANCE,
    summary: 'What a user may still spend',
    tag: 'Usage',
    errors: [404],
  },
  {
    method: 'PUT',
    path: '/budgets',
    field: 'Mutation.set_budget',
    selection: BUDGET,
    summary: 'Create or replace a budget',
    tag: 'Budgets',
    errors: [403],
  },
  {
    method: 'GET',
    path: '/budgets',
    field: 'Query.budgets',
    selection: BUDGET,
    summary: 'List budgets',
    tag: 'Budgets',
    errors: [403],
  },
  {
    method: 'DELETE',
    path: '/budgets/:budget_id',
    field: 'Mutation.delete_budget',
    selection: 'message',
    summary: 'Delete a budget',
    tag: 'Budgets',
    errors: [403, 404],
  },
  {
    method: 'GET',
    path: '/budgets/:budget_id/alerts',
    field: 'Query.budget_alerts',
    selection:
      'alert_id budget_id threshold period_start spent_usd limit_usd created_at delivered_at attempts last_error',
    summary: 'A budget’s alerts and their delivery',
    tag: 'Budgets',
    errors: [403, 404],
  },
  {
    method: 'POST',
    path: '/chats/debug/test-model-usage',
    field: 'Mutation.test_model_usage',
    selection: 'success message response usage_recorded { usage_id model_name tokens: total_tokens cost timestamp }',
    summary: 'Test model usage tracking',
    tag: 'Debugging',
    query: ['model_name', 'user_id', 'chat_id'],
    debug: true,
  },
];

/** The routes a gateway serves: debug routes only while they are turned on. */
export const activeRoutes = (settings: RouteSettings): RestRoute[] =>
  routes.filter((r) => !r.debug || settings.enableDebugRoutes);
