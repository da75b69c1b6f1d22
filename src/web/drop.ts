/**
 * @file The files of a folder the user chose (`<input webkitdirectory>`) or dropped on the page,
 * with their paths relative to the folder's parent ('photos/cat/1.jpg'), as folder.ts reads them.
 */
import type { PageFile } from './folder.js';

/** A chosen folder's files: the browser gives each its relative path. */
export function chosenFiles(list: FileList): PageFile[] {
  return [...list].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Every entry of a dropped folder: `readEntries` returns them in batches (100 in Chrome) until an empty one. */
async function entriesOf(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function filesUnder(entry: FileSystemEntry, out: PageFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: entry.fullPath.replace(/^\//, '') });
  } else if (entry.isDirectory) {
    for (const child of await entriesOf(entry as FileSystemDirectoryEntry)) await filesUnder(child, out);
  }
}

/** A drop's files; null when nothing dropped was a folder (a file alone has no class). */
export async function droppedFiles(transfer: DataTransfer): Promise<PageFile[] | null> {
  // The entries must be taken before the first await: the DataTransfer is emptied after the event.
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  const folders = entries.filter((e) => e.isDirectory);
  if (folders.length !== 1) return null;
  const out: PageFile[] = [];
  await filesUnder(folders[0]!, out);
  return out;
}
