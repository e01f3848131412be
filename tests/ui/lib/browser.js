// Debian's Chromium, headless, driven by playwright-core, on a fresh profile directory. The
// background-networking flags matter: without them Chromium keeps calling Google services,
// which floods a closed network with connection attempts.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mqbridge-ui-chromium-'));
  // launchPersistentContext is how playwright takes a --user-data-dir: a fresh one per run
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(15000);
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// A new tab (its own sessionStorage, so logged out) that records script errors and accepts
// the confirm() dialogs of purge and delete. A prompt() gets `page.promptAnswer` when a test
// set one (null: the prompt is cancelled), else its default value.
async function newPage(context) {
  const page = await context.newPage();
  page.errors = [];
  page.promptAnswer = undefined;
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('dialog', (d) => {
    if (d.type() !== 'prompt') return d.accept();
    if (page.promptAnswer === null) return d.dismiss();
    return d.accept(page.promptAnswer === undefined ? d.defaultValue() : page.promptAnswer);
  });
  return page;
}

module.exports = { launch, newPage };
