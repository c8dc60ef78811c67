// faceserve's page in a real browser: headless Debian Chromium driven by puppeteer-core (no
// browser download). Uploads an owner photo, a stranger, a landscape and a text file; checks the
// table, the messages and that the owner's box is green in the annotated picture; then webcam
// mode with Chromium's fake camera playing owner photos: the owner is boxed live. Screenshots go
// to OUT_DIR.
//   node browser_test.mjs BIN_DIR WORK_DIR OUT_DIR
// Environment: CHROMIUM (default /usr/bin/chromium); FACESERVE_URL to test a running server
// instead of starting one with the fixture (then OWNER_PHOTO and STRANGER_PHOTO pick the photos).
import fs from "node:fs";
import path from "node:path";

import { check, chromium, failures, requireBrowser, skip, startFaceserve } from "./browser_support.mjs";

const [binDir, work, outDir] = process.argv.slice(2);
const puppeteer = await requireBrowser();
if (!process.env.FACESERVE_URL && !fs.existsSync(path.join(work, "fixture.json")))
  skip(`no fixture in ${work}: the shared data was not found (set FACEID_DATA)`);
fs.mkdirSync(outDir, { recursive: true });

// faceserve with the fixture's model, references and thresholds, on a free port.
function startServer() {
  const fixture = JSON.parse(fs.readFileSync(path.join(work, "fixture.json")));
  return startFaceserve(binDir, [
    "--model", path.join(work, "model"), "--refs", path.join(work, "refs"),
    "--threshold", String(fixture.threshold), "--ratio", String(fixture.ratio)], path.join(work, "cache"));
}

const pictures = path.join(work, "pictures");
const ownerPhoto = process.env.OWNER_PHOTO || path.join(pictures, "owner.jpg");
const strangerPhoto = process.env.STRANGER_PHOTO || path.join(pictures, "stranger.jpg");
const notAnImage = path.join(outDir, "notes.jpg");
fs.writeFileSync(notAnImage, "shopping list: milk, bread\n");

const { server, url } = process.env.FACESERVE_URL ? { url: process.env.FACESERVE_URL } : await startServer();
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
         "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${path.join(work, "webcam.y4m")}`],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) external.push(r.url()); });
  await page.goto(url, { waitUntil: "networkidle0" });
  await page.waitForFunction(() => document.querySelector("#model-info").textContent.includes("reference photos"));
  check("page_loads_model_info", true);
  await page.waitForFunction(() => window.faceserveEnrol.state === "absent", { timeout: 10000 });
  check("no_enrol_tab_without_library", await page.$eval("#tab-enrol", (t) => t.hidden));

  // Upload: owner, stranger, a picture without a face, a text file named .jpg.
  const input = await page.$("#file");
  const files = [ownerPhoto, strangerPhoto, path.join(pictures, "landscape.png"), notAnImage].filter(fs.existsSync);
  await input.uploadFile(...files);
  await page.waitForFunction((n) => [...document.querySelectorAll(".result")].filter((c) => c.dataset.status).length === n,
    { timeout: 60000 }, files.length);
  const cards = await page.$$eval(".result", (cs) => cs.map((c) => ({
    file: c.dataset.file, status: c.dataset.status, verdict: c.querySelector(".verdict").textContent,
    verdictClass: c.querySelector(".verdict").className,
    rows: [...c.querySelectorAll("tr[data-decision]")].map((r) => r.dataset.decision),
  })));
  const card = (file) => cards.find((c) => c.file === path.basename(file)) || {};
  const owner = card(ownerPhoto), stranger = card(strangerPhoto);
  check("owner_row_is_owner", owner.status === "200" && owner.rows.includes("owner") && owner.verdictClass.includes("owner"), owner);
  check("stranger_rows_are_unknown", stranger.status === "200" && stranger.rows.length > 0 && stranger.rows.every((d) => d === "unknown"), stranger);
  check("no_face_message", card("landscape.png").verdict === "No face found in this picture.", card("landscape.png"));
  check("not_an_image_message", card(notAnImage).status === "415" && card(notAnImage).verdict.startsWith("Not an image"), card(notAnImage));

  // The annotated pictures: the owner's box is green, the stranger's red (pixels on the top edge).
  const edgeColours = (file) => page.$eval(`.result[data-file="${path.basename(file)}"]`, async (c) => {
    const img = c.querySelector("img.annotated");
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext("2d");
    g.drawImage(img, 0, 0);
    const [x, y, w] = c.querySelector("tr[data-decision]").dataset.box.split(",").map(Number);
    let green = 0, red = 0, n = 0;
    for (let px = Math.round(x + 0.3 * w); px < x + 0.7 * w; ++px, ++n) {
      const [r, gr, b] = g.getImageData(px, Math.max(0, y), 1, 1).data;
      if (gr > 150 && r < 120 && b < 120) ++green;
      if (r > 150 && gr < 100 && b < 100) ++red;
    }
    return { green: green / n, red: red / n };
  });
  const ownerEdge = await edgeColours(ownerPhoto), strangerEdge = await edgeColours(strangerPhoto);
  check("owner_box_is_green", ownerEdge.green > 0.8, ownerEdge);
  check("stranger_box_is_red", strangerEdge.red > 0.8, strangerEdge);
  await page.screenshot({ path: path.join(outDir, "upload.png"), fullPage: true });

  // Webcam mode: Chromium's fake camera plays owner photos; the page boxes the owner live.
  await page.click("#tab-webcam");
  await page.waitForSelector('#webcam-status[data-owner="true"]', { timeout: 60000 });
  await new Promise((r) => setTimeout(r, 1000));  // a few more frames
  const live = await page.$eval("#overlay", (canvas) => {
    const last = window.faceserveResults[window.faceserveResults.length - 1].images[0];
    const face = last.faces.find((f) => f.decision === "owner");
    if (!face) return { frames: window.faceserveResults.length, owner: false };
    const g = canvas.getContext("2d");
    const [x, y, w] = face.box.map(Math.round);
    const [r, gr, b] = g.getImageData(x + Math.round(w / 2), y, 1, 1).data;
    return { frames: window.faceserveResults.length, owner: true, pixel: [r, gr, b] };
  });
  check("webcam_shows_owner_live", live.owner && live.pixel[1] > 150 && live.pixel[0] < 120, live);
  await page.screenshot({ path: path.join(outDir, "webcam.png") });
  check("no_request_to_another_origin", external.length === 0, external);
} catch (e) {
  check("browser session", false, String(e));
} finally {
  await browser.close();
  if (server) {
    const code = await new Promise((resolve) => { server.once("exit", resolve); server.kill("SIGTERM"); });
    check("server_exits_0_on_sigterm", code === 0, code);
  }
}
console.log(failures.length ? `${failures.length} failed` : "all passed");
process.exit(failures.length ? 1 : 0);
