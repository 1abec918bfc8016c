// The whole admin and agent journey in the browser (docs/product.md), as someone who never read the
// API would do it: log in, create a single-use list, generate 1,000 codes and watch the batch
// turn active, export them, find a code, cancel it, troubleshoot it, create a multi-use list
// whose claim count follows a claim made over the API, and see that an agent has no Settings.
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { callApi, launchBrowser, screenshot, startService, type RunningService } from './browser';

const VIEWPORT = { width: 1280, height: 800 };
const NEW_PASSWORD = 'correct horse battery staple';

let service: RunningService;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  service = await startService();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

/** A link of the main navigation. */
const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

async function logIn(email: string, password: string) {
  await page.goto(service.url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function chooseOwnPassword(oneTime: string) {
  await page.getByLabel('One-time password').fill(oneTime);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Repeat new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Save password' }).click();
}

describe('dashboard journey', { timeout: 180_000 }, () => {
  let listUrl = '';
  let code = '';

  it('logs in with the first admin login printed at start and chooses a password', async () => {
    await page.goto(service.url);
    await screenshot(page, 'login');
    await logIn(service.firstAdmin.email, 'not the password');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('do not match');
    // This time by keyboard alone: the form is focused on load and Enter submits it.
    await page.goto(service.url);
    await page.getByLabel('Email').waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.getAttribute('type'))).toBe('email');
    await page.keyboard.type(service.firstAdmin.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(service.firstAdmin.password);
    await page.keyboard.press('Enter');
    await chooseOwnPassword(service.firstAdmin.password);
    await page.getByRole('heading', { name: 'Promo code lists' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/lists');
  });

  it('creates a single-use list, with field messages for what is missing', async () => {
    await page
      .getByRole('link', { name: 'Create promo code list' })
      .or(page.getByRole('button', { name: 'Create promo code list' }))
      .first()
      .click();
    await page.getByLabel('Single-use').check();
    await page.getByRole('button', { name: 'Create list' }).click();
    // Nothing named and no outcome: the form says so next to the fields, and nothing is created.
    await page.locator('.field-error').first().waitFor();
    expect(new URL(page.url()).pathname).toBe('/lists/new');
    await page.getByLabel('Name', { exact: true }).fill('Spring single-use');
    await page.getByLabel('Points').fill('100');
    await screenshot(page, 'create-list');
    await page.getByRole('button', { name: 'Create list' }).click();
    await page.waitForURL(/\/lists\/\d+$/);
    listUrl = page.url();
    await page.getByRole('heading', { name: 'Spring single-use' }).waitFor();
  });

  it('generates 1,000 codes and shows the batch turn active', async () => {
    await page.getByRole('button', { name: 'Generate codes' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Number of codes').fill('1000');
    await dialog.getByLabel('Batch name').fill('Launch batch');
    await screenshot(page, 'generate-codes');
    await dialog.getByRole('button', { name: 'Generate' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Launch batch' });
    await row.getByText('Active', { exact: true }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'list-details');
  });

  it('exports the batch as .xlsx holding its 1,000 codes', async () => {
    const row = page.getByRole('row').filter({ hasText: 'Launch batch' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('link', { name: 'Export .xlsx' }).click(),
    ]);
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'promo-e2e-xlsx-')), 'batch.xlsx');
    await download.saveAs(file);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(file);
    const sheet = book.worksheets[0]!;
    const codes = new Set<string>();
    sheet.eachRow((r, n) => {
      if (n > 1) codes.add(String(r.getCell(1).value));
    });
    expect(codes.size).toBe(1000);
    code = [...codes][0]!;
  });

  it('finds a code and cancels it after confirming', async () => {
    await nav('Administer codes').click();
    await page.getByLabel('Search codes').fill(code);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Available', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'Cancel code' }).click();
    const confirm = page.getByRole('dialog', { name: 'Cancel this code?' });
    await confirm.getByRole('button', { name: 'Cancel code' }).click();
    await page.getByText('Cancelled', { exact: true }).first().waitFor();
    await screenshot(page, 'administer-codes');
  });

  it('troubleshoots the code: the verdict says it is cancelled and the timeline shows the cancellation', async () => {
    await nav('Troubleshoot').click();
    await page.getByRole('heading', { name: 'Troubleshoot', level: 1 }).waitFor();
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Troubleshoot' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/cancel/i);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline
      .getByRole('listitem')
      .filter({ hasText: /cancel/i })
      .first()
      .waitFor();
    await screenshot(page, 'troubleshoot');
  });

  it('creates a multi-use list whose claim count follows a claim made over the API', async () => {
    await nav('Promo code lists').click();
    await page
      .getByRole('link', { name: 'Create promo code list' })
      .or(page.getByRole('button', { name: 'Create promo code list' }))
      .first()
      .click();
    await page.getByLabel('Name', { exact: true }).fill('Spring multi-use');
    await page.getByLabel('Multi-use').check();
    await page.getByLabel('Code', { exact: true }).fill('SPRING-50');
    await page.getByLabel('Cap at').check();
    await page.getByLabel('Maximum claims').fill('50');
    await page.getByLabel('Points').fill('50');
    await page.getByRole('button', { name: 'Create list' }).click();
    await page.waitForURL(/\/lists\/\d+$/);
    await page.getByText(/0 of 50 claimed/).waitFor();

    const client = await callApi(service, service.adminKey, 'POST', '/v1/api-keys', { name: 'POS', role: 'client' });
    await callApi(service, client.key, 'PUT', '/v1/customers/cust-e2e', { name: 'Ada' });
    await callApi(service, client.key, 'POST', '/v1/claims', { code: 'spring-50', customer_id: 'cust-e2e' });
    await page.reload();
    await page.getByText(/1 of 50 claimed/).waitFor();

    // The customer's page shows the claim and the points it gave.
    await page.goto(`${service.url}/customers/cust-e2e`);
    await page.getByRole('row').filter({ hasText: 'SPRING50' }).first().waitFor();
    await screenshot(page, 'customer');

    await nav('Promo code lists').click();
    await page.getByRole('row').filter({ hasText: 'Spring multi-use' }).waitFor();
    await screenshot(page, 'lists');
    expect(listUrl).not.toBe(page.url());
  });

  it("uploads a partner's semicolon file with a Voucher column and shows its rejected rows in words", async () => {
    await page
      .getByRole('link', { name: 'Create promo code list' })
      .or(page.getByRole('button', { name: 'Create promo code list' }))
      .first()
      .click();
    await page.getByLabel('Name', { exact: true }).fill('Partner vouchers');
    await page.getByLabel('Third-party').check();
    await page.getByLabel('Points').fill('10');
    await page.getByRole('button', { name: 'Create list' }).click();
    await page.waitForURL(/\/lists\/\d+$/);
    const file = 'Partner;Voucher;Value\r\nAcme;E2E-0001;5\r\nAcme;e2e 0001;5\r\nAcme;X;5\r\nAcme;E2E-0002;5\r\n';
    await page
      .getByLabel('File of codes')
      .setInputFiles({ name: 'partner.csv', mimeType: 'text/csv', buffer: Buffer.from(file) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'partner.csv' });
    await row.getByText('Active', { exact: true }).waitFor({ timeout: 60_000 });
    await row.getByRole('button', { name: 'Show rejected rows' }).click();
    const rejected = page.getByRole('table', { name: /^Rejected rows of partner\.csv/ }); // named by its caption
    await rejected.getByRole('row').filter({ hasText: 'Repeats line 2' }).waitFor();
    await rejected.getByRole('row').filter({ hasText: 'Not a valid code: fewer than 3 letters or digits' }).waitFor();
    expect(await rejected.getByRole('row').count()).toBe(3); // the header and two rows
    // The import alert's link opens the list with these rows shown.
    const importId = (
      await callApi(service, service.adminKey, 'GET', `/v1/lists/${page.url().split('/').pop()}/imports`)
    ).items[0].id;
    await page.goto(`${page.url()}?rejected=${importId}`);
    await page.getByRole('table', { name: /^Rejected rows of partner\.csv/ }).waitFor();
    await nav('Promo code lists').click();
  });

  it('an agent operator created in Settings cannot reach Settings', async () => {
    await nav('Settings').click();
    await page
      .getByRole('link', { name: 'Operators' })
      .or(page.getByRole('tab', { name: 'Operators' }))
      .or(page.getByRole('button', { name: 'Operators' }))
      .first()
      .click();
    await page.getByLabel('Email').fill('agent@example.com');
    await page.getByLabel('Name').fill('Agent Smith');
    await page.getByLabel('Role').selectOption('agent');
    await page.getByRole('button', { name: 'Create operator' }).click();
    const oneTime = (await page.locator('.secret').first().textContent())!.trim();
    expect(oneTime.length).toBeGreaterThanOrEqual(12);
    await screenshot(page, 'settings-operators');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn('agent@example.com', oneTime);
    await chooseOwnPassword(oneTime);
    await page.getByRole('heading', { name: 'Promo code lists' }).waitFor();
    expect(await nav('Settings').count()).toBe(0);
    expect(await nav('Troubleshoot').count()).toBe(1);
    await page.goto(`${service.url}/settings`);
    await page.getByRole('heading', { name: 'Not available' }).waitFor();
    // The API refuses it too, whatever the page shows.
    const status = await page.evaluate(async () => (await fetch('/v1/api-keys')).status);
    expect(status).toBe(403);
  });
});
