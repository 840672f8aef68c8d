import { badInput } from '../../graphql/errors';

/** How deep folders nest: a folder at the top is at depth 1. */
export const MAX_FOLDER_DEPTH = 8;

export type FolderLink = { folder_id: number; parent_id: number | null };

/**
 * The checks of a folder tree change, on all of one user's folders (a user has tens, not
 * thousands): `parentId` must be one of them, must not be `folderId` or inside it (a cycle), and
 * the moved folder's deepest descendant must stay within MAX_FOLDER_DEPTH. `folderId` is null for
 * a new folder. Throws a BAD_USER_INPUT error saying which rule the change breaks.
 */
export function checkPlacement(folders: readonly FolderLink[], folderId: number | null, parentId: number | null): void {
  if (parentId === null) {
    if (folderId !== null && height(folders, folderId) > MAX_FOLDER_DEPTH) tooDeep();
    return;
  }
  const parentOf = new Map(folders.map((f) => [f.folder_id, f.parent_id]));
  if (!parentOf.has(parentId)) throw badInput(`parent_id: folder ${parentId} not found`);
  // Walk up from the new parent: reaching the moved folder means the move would make a cycle.
  let depth = 1;
  for (let at: number | null | undefined = parentId; at != null; at = parentOf.get(at)) {
    if (at === folderId) throw badInput('parent_id: a folder cannot move into itself or one of its sub-folders');
    depth++;
    // A stored cycle (cannot happen through this API) must not loop forever.
    if (depth > folders.length + 2) break;
  }
  // `depth` is now where the folder itself would sit; its sub-folders go deeper.
  const deepest = depth + (folderId === null ? 0 : height(folders, folderId) - 1);
  if (deepest > MAX_FOLDER_DEPTH) tooDeep();
}

function tooDeep(): never {
  throw badInput(`parent_id: folders nest at most ${MAX_FOLDER_DEPTH} deep`);
}

/** Levels of the subtree under `folderId`, itself included (1: no sub-folders). */
function height(folders: readonly FolderLink[], folderId: number): number {
  const children = new Map<number, number[]>();
  for (const f of folders) {
    if (f.parent_id === null) continue;
    children.set(f.parent_id, [...(children.get(f.parent_id) ?? []), f.folder_id]);
  }
  let level = 0;
  let frontier = [folderId];
  const seen = new Set<number>();
  while (frontier.length > 0) {
    level++;
    const next: number[] = [];
    for (const id of frontier) {
      if (seen.has(id)) continue;
      seen.add(id);
      next.push(...(children.get(id) ?? []));
    }
    frontier = next;
  }
  return level;
}
