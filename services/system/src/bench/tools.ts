// The external load tools (installed by scripts/tools.sh into the project cache): where they are, and running one
// with its output captured. A tool that is not installed is reported, and its part measured with Node instead.
import { spawn } from 'node:child_process';
import { accessSync, constants, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log } from './progress';
import { settings } from './settings';

export type ToolName = 'ghz' | 'k6';

/** What the suite used for each part, and why: filled in as it runs, printed in the report. */
export const toolNotes: string[] = [];

/** The path of an installed tool, or undefined (and a note saying so) when it is missing or BENCH_TOOLS=0. */
export function toolPath(name: ToolName): string | undefined {
  if (!settings.useTools) return undefined;
  const file = path.join(settings.cacheDir ?? path.join(os.homedir(), '.cache', 'o2o'), 'bin', name);
  try {
    accessSync(file, constants.X_OK);
    return file;
  } catch {
    const note = `${name} is not installed (${file}; run scripts/tools.sh): its part is measured with the Node load generator`;
    if (!toolNotes.includes(note)) {
      toolNotes.push(note);
      log(note);
    }
    return undefined;
  }
}

/** The tool's pinned version, from the name of the binary scripts/tools.sh linked it to (e.g. "ghz v0.121.0"). */
export async function toolVersion(file: string): Promise<string> {
  const target = path.basename(readlinkSync(file));
  const m = /^(\w+)-(v[\w.-]+)$/.exec(target);
  return m ? `${m[1]} ${m[2]}` : target;
}

/**
 * Runs a tool; resolves with its output and exit code. Its stderr lines are passed on (they are its progress)
 * unless `quiet`. Killed after `timeoutMs`.
 */
export function runTool(
  file: string,
  args: string[],
  options: { timeoutMs: number; quiet?: boolean; env?: Record<string, string | undefined>; cwd?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr = (stderr + text).slice(-100_000);
      if (!options.quiet) process.stderr.write(text);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
