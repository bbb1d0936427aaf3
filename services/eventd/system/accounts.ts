// Users and groups by name or number, from /etc/passwd and /etc/group (what
// getpwnam/getgrnam read on a machine without NSS modules). Node has no API
// for either; the files are the portable answer for a daemon on Linux.
import { readFileSync } from 'node:fs';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface Group {
  readonly name: string;
  readonly gid: number;
}

function rows(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.split(':'));
}

const numeric = /^\d+$/;

/** A user by name or uid; a bare uid missing from /etc/passwd is still a user (its group then equals its uid). */
export function findAccount(nameOrUid: string, passwd = '/etc/passwd'): Account | undefined {
  for (const [name, , uid, gid] of rows(passwd)) {
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (name === nameOrUid || (numeric.test(nameOrUid) && Number(uid) === Number(nameOrUid))) return { name, uid: Number(uid), gid: Number(gid) };
  }
  if (numeric.test(nameOrUid)) return { name: nameOrUid, uid: Number(nameOrUid), gid: Number(nameOrUid) };
  return undefined;
}

export function findGroup(nameOrGid: string, group = '/etc/group'): Group | undefined {
  for (const [name, , gid] of rows(group)) {
    if (name === undefined || gid === undefined) continue;
    if (name === nameOrGid || (numeric.test(nameOrGid) && Number(gid) === Number(nameOrGid))) return { name, gid: Number(gid) };
  }
  if (numeric.test(nameOrGid)) return { name: nameOrGid, gid: Number(nameOrGid) };
  return undefined;
}

/** The user name of a uid, for people reading the audit; the number when it has none. */
export function userName(uid: number, passwd = '/etc/passwd'): string {
  for (const [name, , id] of rows(passwd)) if (name !== undefined && Number(id) === uid) return name;
  return String(uid);
}
