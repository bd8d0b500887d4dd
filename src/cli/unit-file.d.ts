/** The systemd unit template is imported as text (`with { type: "text" }`) so the compiled binary embeds it. */
declare module "*.service" {
  const text: string;
  export default text;
}
