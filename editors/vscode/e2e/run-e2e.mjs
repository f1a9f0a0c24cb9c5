// End-to-end test of the extension in a real VS Code: code-server in headless Chromium.
//
//   node run-e2e.mjs CONFIG.json
//
// CONFIG (written by tests/editors/test_editors_vscode.py):
//   codeServer   path of the code-server executable
//   toolsDir     folder whose node_modules holds playwright-core
//   chromium     browser executable (Debian's /usr/bin/chromium)
//   vsix         the packaged extension
//   workspace    folder to open (its .vscode/settings.json points at the server)
//   stateDir     scratch folder for code-server's user data and extensions
//   file         file to open, relative to the workspace
//   type         text to type at the end of the file
//   steps        optional, after the ghost text is shown and before Tab: a list of
//                {"press": KEY} (Playwright key names) and {"ghost": "shown"|"hidden"}
//                (wait until the ghost text is on screen / gone)
//   expect       the file's whole content after Tab accepted the ghost text and it was saved
//   screenshot   where to save the screenshot with ghost text on screen
//   timeoutMs    how long to wait for each step
//   settleMs     pause between "server ready" and typing (default 500)
//
// Prints one JSON line ({"ok": true, ...} or {"ok": false, "error": ...}); exit code 0 or 1.
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { chromium } = createRequire(path.join(config.toolsDir, "package.json"))("playwright-core");
const timeout = config.timeoutMs ?? 60000;
const steps = [];
const started = Date.now();
const step = (name) => steps.push({ name, atMs: Date.now() - started });

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer at ${url} within ${ms} ms`);
}

function writeUserSettings(userDataDir) {
  const settings = {
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "extensions.ignoreRecommendations": true,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "chat.disableAIFeatures": true,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "editor.inlineSuggest.enabled": true,
    // Only ghost text may react to typing and to Tab.
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "editor.wordBasedSuggestions": "off",
    "editor.parameterHints.enabled": false,
    "files.autoSave": "off",
  };
  fs.mkdirSync(path.join(userDataDir, "User"), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

async function main() {
  const userDataDir = path.join(config.stateDir, "user-data");
  const extensionsDir = path.join(config.stateDir, "extensions");
  writeUserSettings(userDataDir);
  const dirs = ["--user-data-dir", userDataDir, "--extensions-dir", extensionsDir];
  execFileSync(config.codeServer, [...dirs, "--install-extension", config.vsix, "--force"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  step("extension installed");

  const port = await freePort();
  const codeServer = spawn(
    config.codeServer,
    [
      ...dirs,
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      config.workspace,
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let serverLog = "";
  codeServer.stdout.on("data", (d) => (serverLog += d));
  codeServer.stderr.on("data", (d) => (serverLog += d));
  let browser;
  let page;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, timeout);
    step("code-server up");
    browser = await chromium.launch({ executablePath: config.chromium, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 560 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(config.workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout });
    step("workbench shown");

    await page.keyboard.press("Control+P");
    await page.waitForSelector(".quick-input-widget input", { timeout });
    await page.keyboard.type(config.file);
    await page.waitForSelector(`.quick-input-list .monaco-list-row`, { timeout });
    await page.keyboard.press("Enter");
    const editor = page.locator(".editor-instance .monaco-editor .view-lines").first();
    await editor.waitFor({ timeout });
    await editor.click();
    await page.keyboard.press("Control+End");
    step("file open");

    // The status bar item shows that the extension activated, and when the model is ready.
    const status = page.locator('[id="codegen.codegen.codegen.status"]');
    await status.waitFor({ timeout });
    // Ready shows the sparkle icon; an error icon means the server did not start.
    await page.waitForSelector(
      '[id="codegen.codegen.codegen.status"] :is(.codicon-sparkle, .codicon-error)',
      { timeout },
    );
    if (await status.locator(".codicon-error").count()) {
      throw new Error(`the server did not start: ${await status.getAttribute("aria-label")}`);
    }
    step("server ready");

    // The provider registration reaches the editor shortly after the server is up.
    await page.waitForTimeout(config.settleMs ?? 500);
    await page.keyboard.type(config.type, { delay: 40 });
    const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();
    await ghost.waitFor({ timeout });
    // Monaco renders ghost text as token spans with non-breaking spaces.
    const ghostText = await page.evaluate(() => {
      const inline = [...document.querySelectorAll(".monaco-editor .ghost-text-decoration")];
      const parts = inline.length ? inline : [...document.querySelectorAll(".monaco-editor .ghost-text")];
      return parts.map((el) => el.textContent).join("").replace(/\u00a0/g, " ");
    });
    step("ghost text shown");
    fs.mkdirSync(path.dirname(config.screenshot), { recursive: true });
    await page.screenshot({ path: config.screenshot });
    for (const s of config.steps ?? []) {
      if (s.press) await page.keyboard.press(s.press);
      if (s.ghost) await ghost.waitFor({ state: s.ghost === "shown" ? "visible" : "hidden", timeout });
      step(s.press ? `pressed ${s.press}` : `ghost text ${s.ghost}`);
    }

    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+S");
    const file = path.join(config.workspace, config.file);
    const deadline = Date.now() + timeout;
    let content = fs.readFileSync(file, "utf8");
    while (content !== config.expect && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      content = fs.readFileSync(file, "utf8");
    }
    step("accepted and saved");
    const statusText = (await status.innerText()).trim();
    const ok = content === config.expect;
    console.log(JSON.stringify({ ok, content, ghostText, statusText, steps, ...(ok ? {} : { error: "unexpected file content" }) }));
    return ok;
  } catch (err) {
    if (page) await page.screenshot({ path: path.join(config.stateDir, "failure.png") }).catch(() => {});
    console.log(JSON.stringify({ ok: false, error: String(err), steps, codeServerLog: serverLog.slice(-4000) }));
    return false;
  } finally {
    await browser?.close().catch(() => {});
    try {
      process.kill(-codeServer.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

process.exitCode = (await main()) ? 0 : 1;
