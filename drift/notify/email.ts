import { createTransport } from 'nodemailer';
import { Delivery, DriftNotice, fieldLines, headline, nextStep } from './messages';

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly from: string;
}

export function emailMessage(from: string, to: string, n: DriftNotice) {
  return {
    from,
    to,
    subject: headline(n),
    text: `${headline(n)}\n\n${n.kind === 'drift' ? `${fieldLines(n.finding)}\n\n` : ''}${nextStep(n)}\n`,
  };
}

export async function sendEmail(
  target: string,
  to: string,
  n: DriftNotice,
  smtp: SmtpSettings,
  password?: string,
): Promise<Delivery> {
  const transport = createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.port === 465,
    auth: password ? { user: smtp.from, pass: password } : undefined,
    // A relay on loopback (a test server, a local MTA) has no certificate to check.
    tls: { rejectUnauthorized: smtp.host !== '127.0.0.1' && smtp.host !== 'localhost' },
  });
  const info = await transport.sendMail(emailMessage(smtp.from, to, n));
  return { target, ok: true, detail: info.response };
}
