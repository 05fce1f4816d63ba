/**
 * tenants.json: tenant names for Slack workspaces and Discord servers, and where each
 * tenant's safety alerts go. Alert routing is reviewed base config, never an override
 * (override-doc.ts lists what can be overridden; tenants.json is not in it).
 */
import { z } from 'zod';

const id = z.string().min(1);
const SLACK_CHANNEL = /^[CG][A-Z0-9]{6,}$/;
const SNOWFLAKE = /^\d{17,20}$/;

/** One tenant's alert destinations (any of the three), and whether the person's words go along. */
export const TenantAlertSchema = z
  .object({
    description: z.string().optional(),
    /** A channel id in that Slack workspace (C… or G…), where the bot is a member. */
    slack_channel: z.string().regex(SLACK_CHANNEL, 'a Slack channel id such as C0123ABCD').optional(),
    /** A channel id in that Discord server (a snowflake). */
    discord_channel: z.string().regex(SNOWFLAKE, 'a Discord channel id (17 to 20 digits)').optional(),
    /** An https URL that receives a signed JSON body (SAFETY_ALERT_WEBHOOK_SECRET). */
    webhook_url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL').optional(),
    /**
     * Put the person's message text into the alert. Off by default: alerts say that the
     * protocol fired, never what was written. Turning it on is a deliberate, documented choice;
     * each alert sent with text is marked so in the audit trail.
     */
    include_text: z.boolean().default(false),
    /** Who is told, as the person reads it: "I've let <team> know…". */
    team: z.string().min(1).max(80).optional(),
    /**
     * While nobody has pressed "I'm on it", remind the destinations this many minutes after the
     * alert, and as long again after each reminder (three at most); 0: no reminders. Default:
     * SAFETY_ALERT_REMIND_MINUTES (10).
     */
    remind_after_minutes: z.number().int().min(0).max(1440).optional(),
  })
  .strict()
  .refine((a) => a.slack_channel || a.discord_channel || a.webhook_url, 'name at least one of slack_channel, discord_channel, webhook_url');

export const TenantsConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    /** Tenant name -> the Slack team ids and Discord guild ids that belong to it, and its alert routing. */
    tenants: z.record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-", at most 64'),
      z
        .object({
          slack_teams: z.array(z.string().min(1)).default([]),
          discord_guilds: z.array(z.string().min(1)).default([]),
          safety_alert: TenantAlertSchema.optional(),
        })
        .strict(),
    ),
  })
  .strict();

export type TenantsConfig = z.infer<typeof TenantsConfigSchema>;
export type TenantAlertConfig = z.infer<typeof TenantAlertSchema>;
