/**
 * Gateway payloads for the fake Discord (test/fakes/discord.ts): the bot and people, messages,
 * the guild, and interactions (commands, buttons, autocomplete, modals) as the real gateway
 * sends them. Re-exported by discord.ts, where tests import them from.
 */
export const BOT_ID = '100000000000000001';
export const APP_ID = '100000000000000002';
export const GUILD_ID = '200000000000000001';
export const TEXT_CHANNEL_ID = '300000000000000001';

let snowflake = 500000000000000000n;
export const nextId = () => String(++snowflake);

export function botUser() {
  return { id: BOT_ID, username: 'guide', discriminator: '0', global_name: 'Guide', avatar: null, bot: true };
}

export function person(id = '400000000000000001') {
  return { id, username: `person${id.slice(-3)}`, discriminator: '0', global_name: 'Person', avatar: null };
}

/** A MESSAGE_CREATE payload. */
export function message(fields: { channel_id: string; content: string; author: ReturnType<typeof person>; guild_id?: string; mentions?: unknown[]; type?: number; id?: string; channel_type?: number }) {
  return {
    id: fields.id ?? nextId(),
    channel_id: fields.channel_id,
    // Real DMs arrive with channel_type 1, which discord.js needs to build the uncached DM channel.
    ...(fields.guild_id ? {} : { channel_type: fields.channel_type ?? 1 }),
    ...(fields.guild_id ? { guild_id: fields.guild_id, member: { roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 } } : {}),
    author: fields.author,
    content: fields.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: fields.mentions ?? [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: fields.type ?? 0,
    flags: 0,
  };
}

export function threadChannel(parentId: string, name: string, type: number) {
  return {
    id: nextId(),
    type,
    guild_id: GUILD_ID,
    parent_id: parentId,
    name,
    owner_id: BOT_ID,
    thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false },
    member_count: 1,
    message_count: 0,
  };
}

export function guild() {
  return {
    id: GUILD_ID,
    name: 'Fake guild',
    icon: null,
    owner_id: '400000000000000999',
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [{ id: GUILD_ID, name: '@everyone', permissions: '1024', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
    emojis: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    premium_tier: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
    joined_at: new Date().toISOString(),
    large: false,
    unavailable: false,
    member_count: 2,
    members: [{ user: botUser(), roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
    channels: [{ id: TEXT_CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: 'general', position: 0, permission_overwrites: [], nsfw: false, parent_id: null }],
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    stickers: [],
  };
}

/** An INTERACTION_CREATE payload for `/trt <sub>`, in a DM or a guild channel. */
export function slashCommand(sub: string, where: { channelId: string; guildId?: string }, user = person()) {
  return interaction(2, { id: nextId(), name: 'trt', type: 1, options: [{ name: sub, type: 1 }] }, where, user);
}

/** An INTERACTION_CREATE payload of any type (2 command, 3 component, 4 autocomplete, 5 modal) with the given `data`. */
export function interaction(type: number, data: Record<string, unknown>, where: { channelId: string; guildId?: string }, user = person(), onMessage?: Record<string, unknown>) {
  return {
    id: nextId(),
    application_id: APP_ID,
    type,
    token: `tok${nextId()}`,
    version: 1,
    locale: 'en-US',
    app_permissions: '2048',
    entitlements: [],
    authorizing_integration_owners: {},
    context: where.guildId ? 0 : 1,
    channel_id: where.channelId,
    channel: { id: where.channelId, type: where.guildId ? 0 : 1 },
    ...(where.guildId ? { guild_id: where.guildId, member: { user, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0, permissions: '2048' } } : { user }),
    // A component interaction carries the message its component sits on.
    ...(type === 3 ? { message: onMessage ?? message({ channel_id: where.channelId, content: 'a message with a button', author: botUser() as ReturnType<typeof person>, ...(where.guildId ? { guild_id: where.guildId } : {}) }) } : {}),
    data,
  };
}

/**
 * A button press (component_type 2) on a message, e.g. one the bot never sent. For a press on a
 * message the fake holds (an alert's "I'm on it"), FakeDiscord.pressButton.
 */
export function buttonPress(where: { channelId: string; guildId?: string }, customId = 'unknown-button') {
  return interaction(3, { custom_id: customId, component_type: 2 }, where);
}

/** An autocomplete request for a command option. */
export function autocomplete(where: { channelId: string; guildId?: string }, name = 'trt') {
  return interaction(4, { id: nextId(), name, type: 1, options: [{ name: 'query', type: 3, value: 'x', focused: true }] }, where);
}

/** A modal submitted (the bot never opens one). */
export function modalSubmit(where: { channelId: string; guildId?: string }) {
  return interaction(5, { custom_id: 'unknown-modal', components: [{ type: 1, components: [{ type: 4, custom_id: 'field', value: 'typed' }] }] }, where);
}
