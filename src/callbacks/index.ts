/** Callbacks and deadline alerts: the runner that reads lifecycle events and calls what DAGs ask for, and the notifiers. */
export {
  CallbackRunner,
  CALLBACK_CURSOR,
  SAVE_EVERY_MS,
  type CallbackRunnerOptions,
  type CallbackRunnerPort,
  type RunnerClock,
} from "./runner";
export { sendMail, slackCall, smtpMail, type MailMessage, type SmtpSettings } from "./notifiers";
export { runTsCallback, tsCallbackTarget, type TsCallbackContext, type TsCallbackSettings } from "./ts-callback";
