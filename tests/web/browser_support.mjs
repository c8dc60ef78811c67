// Shared by the browser tests: Debian's Chromium and puppeteer-core or a skip (exit 77), the
// ok/FAIL lines, and faceserve started on a free port.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";

export const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

export function skip(why) {
  console.log("SKIP: " + why);
  process.exit(77);
}

// puppeteer-core, when both it and Chromium are there; skips the test otherwise.
export async function requireBrowser() {
  if (!fs.existsSync(chromium)) skip(`no Chromium at ${chromium} (apt-get install chromium)`);
  try {
    return (await import("puppeteer-core")).default;
  } catch {
    skip("puppeteer-core is not installed (npm ci in tests/web)");
  }
}

export const failures = [];
export function check(name, ok, detail = "") {
  console.log((ok ? "ok   " : "FAIL ") + name + (ok ? "" : `: ${JSON.stringify(detail)}`));
  if (!ok) failures.push(name);
}

// faceserve with `args` (and --port 0), its face cache in `cache`: the process and its URL.
export async function startFaceserve(binDir, args, cache) {
  const server = spawn(path.join(binDir, "faceserve"), [...args, "--port", "0"],
    { env: { ...process.env, FACEID_CACHE: cache }, stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: server.stdout }).once("line", resolve);
    server.once("exit", (code) => reject(new Error(`faceserve exited with ${code}`)));
  });
  return { server, url: line.match(/http:\/\/\S+\//)[0] };
}
