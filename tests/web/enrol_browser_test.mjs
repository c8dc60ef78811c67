// faceserve's "Find me in my photos" view in a real browser (headless Debian Chromium, puppeteer-core):
// the tab appears, the proposal arrives, the proposed faces are shown by day with their
// thumbnails; one face is unticked and one other person marked a look-alike, Confirm writes exactly
// the ticked faces (and that person's as negatives) into the enrolment
// folder (checked on disk), and Undo removes them. Screenshots go to OUT_DIR (enrol_review.png is
// docs/faceserve_enrol.png).
//   node enrol_browser_test.mjs BIN_DIR WORK_DIR OUT_DIR   (WORK_DIR holds enrol_fixture.sh's output)
// Environment: CHROMIUM (default /usr/bin/chromium).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { check, chromium, failures, requireBrowser, skip, startFaceserve } from "./browser_support.mjs";

const [binDir, work, outDir] = process.argv.slice(2);
const puppeteer = await requireBrowser();
if (!fs.existsSync(path.join(work, "fixture.json")))
  skip(`no fixture in ${work}: the shared data or the face-api package was not found`);
const fixture = JSON.parse(fs.readFileSync(path.join(work, "fixture.json")));
fs.mkdirSync(outDir, { recursive: true });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "faceserve-enrol-"));
const into = path.join(scratch, "enrolled");

// Every file under `root`, relative, sorted.
const filesUnder = (root) => fs.existsSync(root)
  ? fs.readdirSync(root, { recursive: true }).filter((f) => fs.statSync(path.join(root, f)).isFile()).sort()
  : [];

function startServer() {
  return startFaceserve(binDir, [
    "--model", fixture.model, "--refs", fixture.seeds,
    "--library", fixture.library, "--seeds", fixture.seeds, "--enrol-into", into], path.join(work, "cache"));
}

// The review: days with their thumbnails (face id, photo, ticked, loaded) and the other people.
const review = (page) => page.evaluate(() => ({
  days: [...document.querySelectorAll("#enrol-days .day")].map((d) => ({
    day: d.dataset.day, heading: d.querySelector("h3").textContent,
    faces: [...d.querySelectorAll(".thumb")].map((t) => ({
      id: Number(t.dataset.face), file: t.dataset.file, ticked: t.querySelector("input").checked,
      loaded: t.querySelector("img").complete && t.querySelector("img").naturalWidth > 0 })),
  })),
  others: [...document.querySelectorAll("#enrol-others .person h4")].map((h) => h.textContent),
  confirm: document.querySelector("#enrol-confirm").textContent,
}));

const { server, url } = await startServer();
const browser = await puppeteer.launch({ executablePath: chromium, headless: true,
                                         args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:")) external.push(r.url()); });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#tab-enrol:not([hidden])", { timeout: 10000 });
  check("enrol_tab_shown_with_a_library", true);
  await page.click("#tab-enrol");
  await page.waitForSelector("#enrol-review:not([hidden])", { timeout: 240000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#enrol-days img, #enrol-others img")].every((i) => i.complete),
    { timeout: 60000 });
  const before = await review(page);
  const shown = before.days.flatMap((d) => d.faces);
  check("proposed_faces_shown", shown.length >= 12 && shown.every((f) => f.ticked && f.loaded), shown);
  check("days_headed_with_count_and_source", before.days.length === 3 &&
        before.days.every((d) => d.heading.includes(`${d.faces.length} face`)) &&
        before.days.some((d) => d.heading.includes("EXIF")) && before.days.some((d) => d.heading.includes("file time")),
        before.days.map((d) => d.heading));
  check("other_people_unnamed", before.others.length >= 2 && /^person 2 — \d+ faces$/.test(before.others[0]), before.others);
  check("confirm_counts_the_ticked", before.confirm === `Confirm ${shown.length} faces`, before.confirm);

  // Untick one face (the last of the first day), then confirm.
  const off = before.days[0].faces[before.days[0].faces.length - 1];
  await page.click(`.thumb[data-face="${off.id}"] input`);
  const after = await review(page);
  const ticked = after.days.flatMap((d) => d.faces).filter((f) => f.ticked);
  check("untick_one", ticked.length === shown.length - 1 && after.confirm === `Confirm ${ticked.length} faces`, after.confirm);
  check("nothing_written_before_confirm", !fs.existsSync(into), filesUnder(scratch));
  await page.screenshot({ path: path.join(outDir, "enrol_review.png"), fullPage: true });

  // Mark the first other person as a look-alike: written as negatives.
  const lookalike = await page.$eval("#enrol-others input.lookalike", (i) => { i.click(); return Number(i.dataset.group); });

  await page.click("#enrol-confirm");
  await page.waitForSelector("#enrol-result[data-written]", { timeout: 60000 });
  const written = filesUnder(into);
  const negatives = written.filter((f) => f.startsWith(`negatives/person-${lookalike}/`));
  check("lookalike_written_as_negatives", negatives.length >= 2, written);
  const dayFiles = written.filter((f) => !f.startsWith("references/") && !f.startsWith("negatives/") &&
                                         f !== "enrolment.json");
  const stem = (file) => path.basename(file, path.extname(file));
  const perDay = Object.fromEntries(after.days.map((d) => [d.day, d.faces.filter((f) => f.ticked).length]));
  const onDisk = Object.fromEntries(after.days.map((d) => [d.day, dayFiles.filter((f) => path.dirname(f) === d.day).length]));
  check("day_folders_hold_the_ticked_faces", dayFiles.length === ticked.length &&
        JSON.stringify(perDay) === JSON.stringify(onDisk), { perDay, onDisk });
  check("unticked_face_not_written", !written.some((f) => path.basename(f).startsWith(stem(off.file) + "_")), off);
  check("ticked_faces_written", ticked.every((f) => dayFiles.some((w) => path.basename(w).startsWith(stem(f.file) + "_"))));
  check("manifest_written", written.includes("enrolment.json"), written);
  const result = await page.$eval("#enrol-result", (r) => ({ text: r.textContent, written: Number(r.dataset.written) }));
  check("result_says_what_was_written", result.written === written.length && result.text.includes(into), result);
  const disabled = await page.$$eval("#enrol-days input", (boxes) => boxes.every((b) => b.disabled));
  check("ticks_locked_after_confirm", disabled && await page.$eval("#enrol-confirm", (b) => b.disabled));
  await page.screenshot({ path: path.join(outDir, "enrol_confirmed.png"), fullPage: true });

  await page.click("#enrol-undo");
  await page.waitForSelector("#enrol-result[data-removed]", { timeout: 60000 });
  const removed = await page.$eval("#enrol-result", (r) => Number(r.dataset.removed));
  check("undo_removes_every_file", removed === written.length && filesUnder(into).length === 0, filesUnder(into));
  check("confirm_possible_again", !(await page.$eval("#enrol-confirm", (b) => b.disabled)));
  check("no_request_to_another_origin", external.length === 0, external);
} catch (e) {
  check("browser session", false, String(e));
} finally {
  await browser.close();
  const code = await new Promise((resolve) => { server.once("exit", resolve); server.kill("SIGTERM"); });
  check("server_exits_0_on_sigterm", code === 0, code);
  fs.rmSync(scratch, { recursive: true, force: true });
}
console.log(failures.length ? `${failures.length} failed` : "all passed");
process.exit(failures.length ? 1 : 0);
