// UI text in English and Italian. Pack content (riddles, prompts, team names)
// is shown as written and never goes through this module.
//
//   t("riddle.count", {n: 3, count: 9})  ->  "Riddle 3 of 9" / "Indovinello 3 di 9"
//
// Static markup uses data-i18n="key" (textContent) and
// data-i18n-attr="placeholder:key;aria-label:key" (attributes).

import { h } from "./dom.js";

/** @type {Record<string, string>} */
export const LANGS = { en: "English", it: "Italiano" };
const STORAGE_KEY = "ritrovo.lang";

// key: [English, Italian]
/** @type {Record<string, [string, string]>} */
const D = {
  // general
  "app.name": ["Ritrovo", "Ritrovo"],
  "app.tagline": ["Riddles and stories for teams on a video call", "Indovinelli e storie per squadre in videochiamata"],
  "lang.switch": ["Language", "Lingua"],
  "conn.connecting": ["Connecting…", "Connessione…"],
  "conn.connected": ["Connected", "Connesso"],
  "conn.reconnecting": ["Reconnecting…", "Riconnessione…"],
  "conn.reconnecting_in": ["Connection lost: retrying in {s} s", "Connessione persa: nuovo tentativo tra {s} s"],
  "conn.offline": ["Offline: waiting for the network", "Offline: in attesa della rete"],
  "notice.paused": [
    "The game is paused: the server lost its storage and is reconnecting. Nothing is lost.",
    "Il gioco è in pausa: il server ha perso l'archivio e si sta ricollegando. Non si perde nulla.",
  ],
  "conn.closed": ["Disconnected", "Disconnesso"],
  "conn.retry": ["Retry now", "Riprova ora"],
  "common.points": ["{n} pts", "{n} pt"],
  "common.points_long": ["{n} points", "{n} punti"],
  "common.you": ["you", "tu"],
  "common.away": ["away", "assente"],
  "common.online": ["online", "connesso"],
  "common.copy": ["Copy", "Copia"],
  "common.copied": ["Copied!", "Copiato!"],
  "common.cancel": ["Cancel", "Annulla"],
  "common.save": ["Save", "Salva"],
  "common.loading": ["Loading…", "Caricamento…"],
  "common.error": ["Something went wrong: {message}", "Qualcosa è andato storto: {message}"],
  "common.room": ["Room", "Stanza"],
  "common.code": ["Code", "Codice"],
  "common.team": ["Team", "Squadra"],
  "common.teams": ["Teams", "Squadre"],
  "common.players": ["Players", "Giocatori"],
  "common.players_count": ["{n} players", "{n} giocatori"],
  "common.players_count_one": ["1 player", "1 giocatore"],
  "common.paused": ["Paused", "In pausa"],
  "common.time_left": ["Time left", "Tempo rimasto"],
  "common.seconds_left": ["{n} seconds left", "Mancano {n} secondi"],
  "common.times_up": ["Time's up!", "Tempo scaduto!"],
  "common.round": ["Round {n} of {count}", "Manche {n} di {count}"],
  "common.scoreboard": ["Scoreboard", "Classifica"],
  "common.rank": ["#{n}", "{n}º"],
  "common.no_players": ["No players yet", "Ancora nessun giocatore"],
  "common.home": ["Home", "Home"],

  // landing
  "index.join.title": ["Join a game", "Partecipa a una partita"],
  "index.join.code": ["Room code", "Codice stanza"],
  "index.join.button": ["Join", "Entra"],
  "index.join.hint": ["Six letters and digits, shown on the host's screen.", "Sei lettere e cifre, sullo schermo di chi conduce."],
  "index.join.not_found": ["No room with the code {code}. Check it and try again.", "Nessuna stanza con il codice {code}. Controlla e riprova."],
  "index.join.bad_code": ["Type the room code (six characters).", "Scrivi il codice della stanza (sei caratteri)."],
  "index.host.title": ["Host a game", "Conduci una partita"],
  "index.host.name": ["Room name", "Nome della stanza"],
  "index.host.name_placeholder": ["Friday team games", "Giochi del venerdì"],
  "index.host.pack": ["Puzzle pack", "Pacchetto di giochi"],
  "index.host.no_pack": ["Choose later (or upload my own)", "Scelgo dopo (o carico il mio)"],
  "index.host.create": ["Create room", "Crea la stanza"],
  "index.host.creating": ["Creating…", "Creazione…"],
  "index.host.rounds": ["{n} rounds", "{n} manche"],
  "index.host.rounds_one": ["1 round", "1 manche"],
  "index.host.default_name": ["Team games · {day}", "Giochi di squadra · {day}"],
  "index.host.recent": ["Rooms you host on this device", "Le tue stanze su questo dispositivo"],
  "index.host.open_console": ["Open console", "Apri la console"],
  "index.host.name_required": ["Give the room a name.", "Dai un nome alla stanza."],
  "index.host.items.riddles": ["{n} riddles", "{n} indovinelli"],
  "index.host.items.riddles_one": ["1 riddle", "1 indovinello"],
  "index.host.items.story": ["{n} stories", "{n} storie"],
  "index.host.items.story_one": ["1 story", "1 storia"],
  "index.host.facts": ["{riddles} · about {minutes} min", "{riddles} · circa {minutes} min"],
  "index.host.riddle_count": ["{n} riddles", "{n} indovinelli"],
  "index.host.riddle_count_one": ["1 riddle", "1 indovinello"],
  "index.host.stories_only": ["Stories only", "Solo storie"],
  "index.host.template": ["Template", "Modello"],
  "index.host.template_help": [
    "Replace its {{PLACEHOLDERS}} with your own facts before playing.",
    "Prima di giocare sostituisci i {{SEGNAPOSTO}} con i vostri dati.",
  ],
  "index.filter.language": ["Pack language", "Lingua del pacchetto"],
  "index.filter.all_languages": ["All languages", "Tutte le lingue"],
  "index.filter.kind": ["Kind of game", "Tipo di gioco"],
  "index.filter.all_kinds": ["Riddles and stories", "Indovinelli e storie"],
  "index.filter.riddles": ["Riddles", "Indovinelli"],
  "index.filter.stories": ["Stories", "Storie"],
  "index.filter.count": ["{n} of {total} packs", "{n} pacchetti su {total}"],
  "index.filter.count_all": ["{n} packs", "{n} pacchetti"],
  "index.filter.count_all_one": ["1 pack", "1 pacchetto"],
  "index.filter.none": ["No pack matches these filters.", "Nessun pacchetto corrisponde ai filtri."],
  "index.filter.lang.en": ["English", "Inglese"],
  "index.filter.lang.it": ["Italian", "Italiano"],

  // player: joining
  "join.title": ["Join room {code}", "Entra nella stanza {code}"],
  "join.name": ["Your name", "Il tuo nome"],
  "join.name_placeholder": ["e.g. Ada", "es. Ada"],
  "join.team": ["Team", "Squadra"],
  "join.team_auto": ["Suggested: put me where I'm needed", "Suggerita: mettimi dove servo"],
  "join.button": ["Join the game", "Entra in partita"],
  "join.joining": ["Joining…", "Ingresso…"],
  "join.other_code": ["Another room code", "Un altro codice"],
  "join.go": ["Go", "Vai"],
  "join.room_missing": ["There is no room with the code {code}.", "Non esiste una stanza con il codice {code}."],
  "join.locked": ["The host has locked this room: new players cannot join.", "Chi conduce ha chiuso gli ingressi: non si può entrare."],
  "err.name_taken": ["Someone in the room already has that name. Pick another one.", "Qualcuno nella stanza ha già quel nome. Scegline un altro."],
  "err.empty_name": ["Type your name first.", "Prima scrivi il tuo nome."],
  "err.name_too_long": ["That name is too long (at most 32 characters).", "Nome troppo lungo (al massimo 32 caratteri)."],
  "err.invalid_name": ["That name contains characters that are not allowed.", "Il nome contiene caratteri non ammessi."],
  "err.room_locked": ["The host has locked this room: new players cannot join.", "Chi conduce ha chiuso gli ingressi: non si può entrare."],
  "err.room_full": ["This room is full.", "La stanza è piena."],
  "err.team_not_found": ["That team no longer exists; choose another.", "Quella squadra non esiste più; scegline un'altra."],
  "err.room_not_found": ["This room does not exist (any more).", "Questa stanza non esiste (più)."],
  "err.room_closed": ["The host has closed this room. Thanks for playing!", "Chi conduce ha chiuso la stanza. Grazie per aver giocato!"],
  "err.kicked": ["The host removed you from this room.", "Chi conduce ti ha rimosso dalla stanza."],
  "err.unknown_token": ["Your place in this room is gone; join again.", "Il tuo posto nella stanza non c'è più: entra di nuovo."],
  "err.offline": ["You are not connected right now.", "Al momento non sei connesso."],
  "err.timeout": ["The server did not answer in time.", "Il server non ha risposto in tempo."],
  "err.paused": ["The host has paused the game.", "Chi conduce ha messo in pausa."],
  "err.too_late": ["Time is up for this riddle.", "Il tempo per questo indovinello è scaduto."],
  "err.riddle_closed": ["This riddle is over.", "Questo indovinello è finito."],
  "err.already_solved": ["Your team has already solved it.", "La tua squadra l'ha già risolto."],
  "err.no_more_guesses": ["Your team has used its answer.", "La tua squadra ha già dato la sua risposta."],
  "err.guess_rate_limited": ["Slow down: too many wrong guesses. Wait a few seconds.", "Piano: troppe risposte sbagliate. Aspetta qualche secondo."],
  "err.hint_locked": ["That hint is not unlocked yet.", "Quell'aiuto non è ancora disponibile."],
  "err.pack_too_complex": ["This file is too complex to read as a pack (far too big or too deeply nested).", "Questo file è troppo complesso da leggere come pacchetto (troppo grande o troppo annidato)."],
  "err.too_many_uploads": ["Too many pack uploads for now: try again later.", "Troppi pacchetti caricati per ora: riprova più tardi."],
  "err.not_your_turn": ["It is not your turn any more.", "Non è più il tuo turno."],
  "err.empty_line": ["Write something before sending.", "Scrivi qualcosa prima di inviare."],
  "err.line_too_long": ["Your line is too long.", "La tua riga è troppo lunga."],
  "err.own_team_vote": ["You cannot vote for your own team's story.", "Non puoi votare la storia della tua squadra."],
  "err.not_voting": ["Voting is not open.", "Le votazioni non sono aperte."],
  "err.rate_limited": ["Slow down a little.", "Rallenta un po'."],
  "err.bad_host_token": ["This link does not carry a valid host token for the room.", "Questo link non contiene un codice di conduzione valido per la stanza."],

  // player: game
  "player.you_are": ["You are {name}", "Sei {name}"],
  "player.team_of": ["Team {team}", "Squadra {team}"],
  "player.my_points": ["Your points: {n}", "I tuoi punti: {n}"],
  "player.waiting_host": ["You're in! Waiting for the host to start the game.", "Ci sei! Aspettiamo che chi conduce avvii la partita."],
  "player.your_team": ["Your team", "La tua squadra"],
  "player.leave": ["Leave the game", "Esci dalla partita"],
  "player.leave_confirm": ["Leave the game? Your points stay with your team.", "Uscire dalla partita? I tuoi punti restano alla squadra."],
  "player.left": ["You left the game.", "Sei uscito dalla partita."],
  "player.join_again": ["Join again", "Entra di nuovo"],
  "riddle.count": ["Riddle {n} of {count}", "Indovinello {n} di {count}"],
  "riddle.worth": ["Worth up to {n} points", "Vale fino a {n} punti"],
  "riddle.guess_label": ["Your team's answer", "La risposta della squadra"],
  "riddle.guess_placeholder": ["Type a guess…", "Scrivi una risposta…"],
  "riddle.send": ["Send", "Invia"],
  "riddle.choose": ["Choose one answer (your team has one try)", "Scegli una risposta (la squadra ha un solo tentativo)"],
  "riddle.hints": ["Hints", "Aiuti"],
  "riddle.hint_n": ["Hint {n}", "Aiuto {n}"],
  "riddle.open_hint": ["Open hint {n} (−{cost} points)", "Apri l'aiuto {n} (−{cost} punti)"],
  "riddle.hint_in": ["Hint {n} unlocks in {time}", "Aiuto {n} disponibile tra {time}"],
  "riddle.hint_after_previous": ["Hint {n}: open hint {prev} first", "Aiuto {n}: prima apri l'aiuto {prev}"],
  "riddle.hint_cost": ["−{cost} points", "−{cost} punti"],
  "riddle.hint_opened": ["Hint opened (−{cost} points).", "Aiuto aperto (−{cost} punti)."],
  "riddle.team_guesses": ["Your team's guesses", "Le risposte della squadra"],
  "riddle.no_guesses": ["No guesses yet. Talk it over and type one!", "Ancora nessuna risposta. Parlatene e scrivetene una!"],
  "riddle.by": ["by {name}", "di {name}"],
  "verdict.correct": ["Correct", "Giusto"],
  "verdict.near": ["Close", "Quasi"],
  "verdict.wrong": ["Wrong", "Sbagliato"],
  "verdict.accepted": ["Accepted by the host", "Accettata da chi conduce"],
  "verdict.you_correct": ["+{n} points for your team!", "+{n} punti per la squadra!"],
  "verdict.you_near_plain": ["You're getting close. Keep going!", "Ci sei quasi. Continua così!"],
  "verdict.you_wrong": ["“{text}” is not it.", "“{text}” non è la risposta."],
  "riddle.solved_banner": ["Your team solved it! +{n} points", "La tua squadra l'ha risolto! +{n} punti"],
  "riddle.locked_out": ["Your team has given its answer. Wait for the reveal.", "La squadra ha dato la sua risposta. Aspetta la soluzione."],
  "riddle.others": ["Other teams", "Le altre squadre"],
  "riddle.progress_solved": ["solved", "risolto"],
  "riddle.progress_working": ["thinking… {n} guesses", "ci pensa… {n} risposte"],
  "riddle.progress_working_one": ["thinking… 1 guess", "ci pensa… 1 risposta"],
  "riddle.answer_was": ["The answer", "La risposta"],
  "riddle.solvers": ["Who solved it", "Chi l'ha risolto"],
  "riddle.nobody_solved": ["Nobody solved this one.", "Nessuno l'ha risolto."],
  "riddle.solved_in": ["{team} in {s} s · +{n}", "{team} in {s} s · +{n}"],
  "riddle.skipped": ["The host skipped this riddle: no points.", "Chi conduce ha saltato l'indovinello: nessun punto."],
  "riddle.skipped_solved": [
    "Your team got it right, but the host skipped this riddle: a skipped riddle scores nothing.",
    "La vostra risposta era giusta, ma chi conduce ha saltato l'indovinello: un indovinello saltato non dà punti.",
  ],
  "riddle.wait_next": ["Waiting for the next riddle…", "In attesa del prossimo indovinello…"],
  "riddle.spread": ["{n} teams", "{n} squadre"],
  "riddle.spread_one": ["1 team", "1 squadra"],

  // stories
  "story.write_title": ["Write the story together", "Scrivete la storia insieme"],
  "story.so_far": ["Your team's story so far", "La storia della vostra squadra finora"],
  "story.theme": ["Theme: {theme}", "Tema: {theme}"],
  "story.must_include": ["Use these words: {words}", "Usate queste parole: {words}"],
  "story.opening": ["How it begins", "Come inizia"],
  "story.your_turn": ["Your turn! Write the next line.", "Tocca a te! Scrivi la prossima riga."],
  "story.line_label": ["Your line", "La tua riga"],
  "story.line_placeholder": ["What happens next?", "Cosa succede adesso?"],
  "story.send_line": ["Add my line", "Aggiungi la mia riga"],
  "story.chars": ["{n}/{max} characters", "{n}/{max} caratteri"],
  "story.chars_left": ["{n} characters left", "Restano {n} caratteri"],
  "story.waiting_writer": ["{name} is writing…", "{name} sta scrivendo…"],
  "story.waiting_nobody": ["Waiting for a writer…", "In attesa di chi scrive…"],
  "story.team_done": ["Your team's story is finished. Waiting for the others…", "La storia della squadra è finita. Aspettiamo le altre…"],
  "story.previous_line": ["Continue from this line (the rest is a secret):", "Continua da questa riga (il resto è segreto):"],
  "story.chain_secret": ["In this round you only see the line before yours. Wait for your turn!", "In questa manche vedi solo la riga prima della tua. Aspetta il tuo turno!"],
  "story.progress": ["Everyone's progress", "I progressi di tutti"],
  "story.lines_count": ["{n} lines", "{n} righe"],
  "story.lines_count_one": ["1 line", "1 riga"],
  "story.done": ["finished", "finita"],
  "story.hidden_line": ["[hidden by the host]", "[nascosta da chi conduce]"],
  "story.writers": ["Written by {names}", "Scritta da {names}"],
  "story.reveal_title": ["The stories", "Le storie"],
  "story.waiting_reveal": ["The host is revealing the stories…", "Chi conduce sta svelando le storie…"],
  "story.not_revealed": ["Not revealed yet", "Non ancora svelata"],
  "story.vote_title": ["Vote for your favourite story", "Vota la tua storia preferita"],
  "story.vote_help": ["One vote, for a story that is not your team's. You can change it until voting closes.", "Un voto, per una storia che non è della tua squadra. Puoi cambiarlo finché il voto è aperto."],
  "story.vote_for": ["Vote for {team}", "Vota {team}"],
  "story.your_vote": ["Your vote", "Il tuo voto"],
  "story.own_team": ["Your team's story", "La storia della tua squadra"],
  "story.voted": ["Vote recorded for {team}.", "Voto registrato per {team}."],
  "story.voters": ["{n} of {total} have voted", "Hanno votato {n} su {total}"],
  "story.results": ["Votes are in!", "Ecco i voti!"],
  "story.votes": ["{n} votes", "{n} voti"],
  "story.votes_one": ["1 vote", "1 voto"],
  "story.winner": ["Favourite story", "Storia preferita"],
  "story.points": ["+{n} points", "+{n} punti"],
  "story.vote_on_phones": ["Vote on your phones!", "Votate dal telefono!"],
  "story.turn": ["{name}'s turn", "Turno di {name}"],

  // phases
  "phase.lobby": ["Lobby", "Sala d'attesa"],
  "phase.riddle": ["Riddle", "Indovinello"],
  "phase.story": ["Story", "Storia"],
  "phase.between_rounds": ["Between rounds", "Tra una manche e l'altra"],
  "phase.finished": ["Game over", "Partita finita"],
  "phase.closed": ["Closed", "Chiusa"],
  "between.title": ["Round over!", "Fine della manche!"],
  "between.next": ["Next up: {title}", "Prossima: {title}"],
  "finished.title": ["Final results", "Classifica finale"],
  "finished.thanks": ["Thanks for playing!", "Grazie per aver giocato!"],
  "finished.your_rank": ["Your team finished #{n}", "La tua squadra è arrivata {n}ª"],
  "closed.title": ["This room is closed", "Questa stanza è chiusa"],

  // moments
  "moment.team_solved": ["{team} solved it!", "{team} l'ha risolto!"],
  "moment.player_joined": ["{name} joined {team}", "{name} è entrato in {team}"],
  "moment.player_left": ["{name} left", "{name} è uscito"],
  "moment.player_kicked": ["{name} was removed", "{name} è stato rimosso"],
  "moment.riddle_started": ["Riddle {n} started", "Inizia l'indovinello {n}"],
  "moment.riddle_revealed": ["The answer is revealed", "Ecco la soluzione"],
  "moment.round_started": ["Round: {text}", "Manche: {text}"],
  "moment.guess_accepted": ["The host accepted {team}'s answer", "Chi conduce ha accettato la risposta di {team}"],
  "moment.story_started": ["Story time: {text}", "Tempo di storie: {text}"],
  "moment.story_line": ["{team} added a line", "{team} ha aggiunto una riga"],
  "moment.story_done": ["{team} finished their story", "{team} ha finito la storia"],
  "moment.writing_ended": ["Writing is over", "Fine della scrittura"],
  "moment.story_revealed": ["{team}'s story", "La storia di {team}"],
  "moment.voting_opened": ["Voting is open", "Si vota!"],
  "moment.votes_closed": ["Votes are in", "Voti chiusi"],
  "moment.story_won": ["{team} wrote the favourite story!", "{team} ha scritto la storia preferita!"],
  "moment.game_finished": ["Game over", "Partita finita"],
  "moment.turn_skipped": ["{team}: a turn was skipped", "{team}: un turno saltato"],

  // screen
  "screen.join_at": ["Join at", "Entra su"],
  "screen.or_scan": ["or scan the code", "o inquadra il codice"],
  "screen.code": ["Room code", "Codice stanza"],
  "screen.waiting_players": ["Waiting for players to join…", "In attesa dei giocatori…"],
  "screen.starting_soon": ["The game starts soon", "La partita inizia a breve"],
  "screen.podium": ["Podium", "Podio"],
  "screen.qr_alt": ["QR code to join room {code}", "Codice QR per entrare nella stanza {code}"],
  "screen.writing": ["Teams are writing their stories", "Le squadre scrivono le loro storie"],
  "screen.story_by": ["by team {team}", "della squadra {team}"],
  "screen.reveal_line": ["Line {n} of {count}", "Riga {n} di {count}"],
  "screen.reveal_page": ["page {n} of {count}", "pagina {n} di {count}"],
  "screen.reveal_end": ["The end", "Fine"],
  "screen.reveal_next_line": ["Next line", "Riga successiva"],
  "screen.reveal_next_page": ["Next page", "Pagina successiva"],
  "screen.reveal_back": ["Back a page", "Pagina precedente"],
  "screen.reveal_pause": ["Pause", "Pausa"],
  "screen.reveal_play": ["Play", "Riprendi"],
  "screen.more_lines": ["… and {n} more lines", "… e altre {n} righe"],
  "screen.more_lines_one": ["… and 1 more line", "… e un'altra riga"],
  "moment.many_solved": ["{n} teams solved it!", "{n} squadre l'hanno risolto!"],
  "moment.many_solved_two": ["{a} and {b} solved it!", "{a} e {b} l'hanno risolto!"],
  "moment.many_won": ["{n} teams tie for the favourite story!", "{n} squadre a pari merito per la storia preferita!"],
  "moment.many_won_two": ["{a} and {b} tie for the favourite story!", "{a} e {b} a pari merito per la storia preferita!"],

  // host console
  "host.title": ["Host console", "Console di conduzione"],
  "host.token_needed": ["This console needs the room's host token.", "Questa console richiede il codice di conduzione della stanza."],
  "host.token_label": ["Host token", "Codice di conduzione"],
  "host.token_use": ["Open console", "Apri la console"],
  "host.token_help": ["It was saved on the device that created the room. You can also open the console with the link …/host/CODE#token=TOKEN.", "È salvato sul dispositivo che ha creato la stanza. Puoi anche aprire la console con il link …/host/CODICE#token=CODICE_CONDUZIONE."],
  "host.console_link": ["Console link for another device (keep it secret)", "Link alla console per un altro dispositivo (tienilo segreto)"],
  "host.join_link": ["Join link", "Link per entrare"],
  "host.screen_link": ["Open the shared screen", "Apri lo schermo condiviso"],
  "host.qr_alt": ["QR code of the join link", "Codice QR del link per entrare"],
  "host.lock": ["Lock the room (no new players)", "Chiudi gli ingressi (niente nuovi giocatori)"],
  "host.close_room": ["Close the room", "Chiudi la stanza"],
  "host.close_confirm": ["Close the room for everyone? This cannot be undone.", "Chiudere la stanza per tutti? Non si può annullare."],
  "host.pack": ["Puzzle pack", "Pacchetto di giochi"],
  "host.pack_current": ["Current pack: {title}", "Pacchetto attuale: {title}"],
  "host.pack_none": ["No pack chosen yet.", "Nessun pacchetto scelto."],
  "host.pack_choose": ["Use this pack", "Usa questo pacchetto"],
  "host.pack_library": ["From the library", "Dalla libreria"],
  "host.pack_upload": [
    "Upload a pack file (.yaml, .json) or a quiz to import (Moodle GIFT, Aiken, Kahoot .xlsx, Open Trivia DB, CSV)",
    "Carica un file (.yaml, .json) o un quiz da importare (Moodle GIFT, Aiken, Kahoot .xlsx, Open Trivia DB, CSV)",
  ],
  "host.pack_upload_button": ["Upload", "Carica"],
  "host.pack_uploaded": ["Pack “{title}” loaded.", "Pacchetto “{title}” caricato."],
  "host.pack_problems": ["The pack has problems; nothing was changed:", "Il pacchetto ha dei problemi; non è stato cambiato nulla:"],
  "host.pack_locked": ["The pack can be changed only in the lobby or after the game.", "Il pacchetto si può cambiare solo in sala d'attesa o a fine partita."],
  "host.teams": ["Teams and players", "Squadre e giocatori"],
  "host.new_team": ["New team name", "Nome della nuova squadra"],
  "host.new_team_placeholder": ["New team name", "Nuova squadra"],
  "host.create_team": ["Add team", "Aggiungi squadra"],
  "host.rename": ["Rename", "Rinomina"],
  "host.rename_label": ["New name for {team}", "Nuovo nome per {team}"],
  "host.delete_team": ["Delete team", "Elimina squadra"],
  "host.delete": ["Delete", "Elimina"],
  "host.delete_label": ["Delete team {team}", "Elimina la squadra {team}"],
  "host.rename_team_label": ["Rename team {team}", "Rinomina la squadra {team}"],
  "host.delete_team_confirm": ["Delete team {team}? Its players move to other teams.", "Eliminare la squadra {team}? I giocatori passano ad altre squadre."],
  "host.move_to": ["Move {name} to", "Sposta {name} in"],
  "host.kick": ["Remove", "Rimuovi"],
  "host.move": ["Move", "Sposta"],
  "host.revealed": ["revealed", "svelata"],
  "host.kick_label": ["Remove {name} from the room", "Rimuovi {name} dalla stanza"],
  "host.kick_confirm": ["Remove {name} from the room?", "Rimuovere {name} dalla stanza?"],
  "host.game": ["Game", "Partita"],
  "host.status": ["Status: {phase}", "Stato: {phase}"],
  "host.next.start": ["Start the game", "Avvia la partita"],
  "host.next.next_riddle": ["Next riddle", "Prossimo indovinello"],
  "host.next.end_round": ["End the round", "Chiudi la manche"],
  "host.next.next_round": ["Start the next round", "Avvia la prossima manche"],
  "host.next.end_writing": ["End writing", "Termina la scrittura"],
  "host.next.reveal_story": ["Reveal the next story", "Svela la prossima storia"],
  "host.next.open_voting": ["Open voting", "Apri le votazioni"],
  "host.next.close_voting": ["Close voting", "Chiudi le votazioni"],
  "host.next.generic": ["Next", "Avanti"],
  "host.next.why_open": ["Reveal or skip first", "Prima svela o salta l'indovinello"],
  "host.next.why_pack": ["Choose a pack first", "Prima scegli un pacchetto"],
  "host.pause": ["Pause", "Pausa"],
  "host.resume": ["Resume", "Riprendi"],
  "host.extend": ["+30 s", "+30 s"],
  "host.extend_label": ["Add 30 seconds", "Aggiungi 30 secondi"],
  "host.reveal": ["Reveal the answer", "Svela la risposta"],
  "host.skip": ["Skip (no points)", "Salta (nessun punto)"],
  "host.finish": ["Finish the game", "Termina la partita"],
  "host.finish_confirm": ["End the game now and show the final results?", "Terminare ora la partita e mostrare la classifica finale?"],
  "host.auto_advance": ["Auto-advance to the next riddle after the reveal", "Passa da solo al prossimo indovinello dopo la soluzione"],
  "host.secret": ["Answer (only you see it)", "Risposta (la vedi solo tu)"],
  "host.safe_mode": ["Presenter-safe: hide the answers until I show them", "Modalità presentazione: nascondi le risposte finché non le mostro"],
  "host.show_answer": ["Show the answer", "Mostra la risposta"],
  "host.hide_answer": ["Hide the answer", "Nascondi la risposta"],
  "host.answer_hidden": ["Hidden (presenter-safe): answers, close guesses and hints show when you press “Show the answer”.", "Nascosta (modalità presentazione): risposte, tentativi vicini e indizi compaiono quando premi “Mostra la risposta”."],
  "host.guess_hidden": ["hidden", "nascosto"],
  "host.answers": ["Accepted answers: {answers}", "Risposte accettate: {answers}"],
  "host.live_guesses": ["Live guesses", "Risposte in diretta"],
  "host.accept": ["Accept", "Accetta"],
  "host.accept_label": ["Accept “{text}” from {team}", "Accetta “{text}” di {team}"],
  "host.hide": ["Hide", "Nascondi"],
  "host.unhide": ["Show", "Mostra"],
  "host.hide_label": ["Hide this line from everyone", "Nascondi questa riga a tutti"],
  "host.unhide_label": ["Show this line again", "Mostra di nuovo questa riga"],
  "host.hidden_tag": ["hidden", "nascosta"],
  "host.live_votes": ["Live votes", "Voti in diretta"],
  "host.downloads": ["Downloads", "Download"],
  "host.download_csv": ["Results (CSV)", "Risultati (CSV)"],
  "host.download_json": ["Results (JSON)", "Risultati (JSON)"],
  "host.download_md": ["Stories (Markdown)", "Storie (Markdown)"],
  "host.download_failed": ["Download failed: {message}", "Download non riuscito: {message}"],
  "host.moments": ["What's happening", "Cosa succede"],
  "host.no_riddle": ["No riddle running.", "Nessun indovinello in corso."],
  "host.writer_now": ["writing now: {name}", "sta scrivendo: {name}"],
  "host.closed": ["The room is closed.", "La stanza è chiusa."],
  "host.done": ["Done", "Fatto"],
  "host.final_help": ["Download the results and the stories on the left. “Use this pack” starts a new game in this room.", "Scarica risultati e storie qui a sinistra. “Usa questo pacchetto” avvia una nuova partita in questa stanza."],
  "player.team_score": ["{n} pts", "{n} pt"],

  // pack editor
  "editor.title": ["Pack editor", "Editor dei pacchetti"],
  "editor.skip": ["The pack", "Il pacchetto"],
  "editor.intro": ["Write riddles and story rounds for your team; the server checks every field as you type.", "Scrivi indovinelli e manche di storie per la tua squadra: il server controlla ogni campo mentre scrivi."],
  "editor.open.title": ["Start from", "Parti da"],
  "editor.open.new_label": ["An empty pack", "Un pacchetto vuoto"],
  "editor.open.new": ["New pack", "Nuovo pacchetto"],
  "editor.open.library": ["A pack of the library", "Un pacchetto della raccolta"],
  "editor.open.open_library": ["Open", "Apri"],
  "editor.open.file": ["A file (pack, GIFT, Aiken, Kahoot, Open Trivia DB, CSV)", "Un file (pacchetto, GIFT, Aiken, Kahoot, Open Trivia DB, CSV)"],
  "editor.open.open_file": ["Open file", "Apri il file"],
  "editor.open.room_label": ["The pack of room {code}", "Il pacchetto della stanza {code}"],
  "editor.open.room": ["Open the room's pack", "Apri il pacchetto della stanza"],
  "editor.open.opened": ["Opened “{title}”.", "Aperto “{title}”."],
  "editor.open.draft": ["Your last draft on this device is back; “New pack” starts again.", "È tornata la tua ultima bozza su questo dispositivo; “Nuovo pacchetto” ricomincia da capo."],
  "editor.open.replace": ["Replace the pack you are editing? Your changes are lost unless you downloaded or saved them.", "Sostituire il pacchetto che stai modificando? Le modifiche si perdono se non le hai scaricate o salvate."],
  "editor.open.replace_ok": ["Replace it", "Sostituisci"],
  "editor.pack.title": ["The pack", "Il pacchetto"],
  "editor.field.id": ["Pack id", "Id del pacchetto"],
  "editor.field.title": ["Title", "Titolo"],
  "editor.field.language": ["Language of the riddles", "Lingua degli indovinelli"],
  "editor.field.author": ["Author", "Autore"],
  "editor.field.description": ["Description", "Descrizione"],
  "editor.field.round_title": ["Round title", "Titolo della manche"],
  "editor.field.text": ["Riddle", "Indovinello"],
  "editor.field.answers": ["Accepted answers", "Risposte giuste"],
  "editor.field.options": ["Options (multiple choice)", "Opzioni (scelta multipla)"],
  "editor.field.time_limit": ["Time limit (seconds)", "Tempo (secondi)"],
  "editor.field.points": ["Points", "Punti"],
  "editor.field.typo_tolerance": ["Typos forgiven", "Errori di battitura perdonati"],
  "editor.field.numbers": ["Digits and number words", "Cifre e numeri in lettere"],
  "editor.field.explanation": ["Explanation at the reveal", "Spiegazione alla soluzione"],
  "editor.field.visibility": ["What writers see", "Cosa vede chi scrive"],
  "editor.field.turns_per_player": ["Turns per player", "Turni per giocatore"],
  "editor.field.seconds_per_turn": ["Seconds per turn", "Secondi per turno"],
  "editor.field.max_chars": ["Characters per line", "Caratteri per riga"],
  "editor.field.vote_seconds": ["Seconds of voting", "Secondi di votazione"],
  "editor.help.id": ["Letters a-z, digits and -, such as team-quiz.", "Lettere a-z, cifre e -, come quiz-squadra."],
  "editor.help.language": ["Two letters, such as en or it: answers are judged in this language.", "Due lettere, come it o en: le risposte sono giudicate in questa lingua."],
  "editor.help.answers": ["One per line; the first is shown at the reveal.", "Una per riga; la prima viene mostrata alla soluzione."],
  "editor.help.options": ["Leave empty for a typed answer. 2 to 8, one per line: the accepted answers must be among them.", "Lascia vuoto per una risposta scritta. Da 2 a 8, una per riga: le risposte giuste devono esserci."],
  "editor.help.near": ["Guesses that are close: the team sees the nudge instead of “wrong”.", "Risposte vicine: la squadra legge il suggerimento invece di “sbagliato”."],
  "editor.help.hints": ["Opened by a team after the given seconds, for the given points.", "La squadra li apre dopo i secondi indicati, al costo dei punti indicati."],
  "editor.help.turns": ["1 to 10", "Da 1 a 10"],
  "editor.help.seconds_per_turn": ["10 to 600", "Da 10 a 600"],
  "editor.help.max_chars": ["20 to 500", "Da 20 a 500"],
  "editor.help.vote_seconds": ["0: open until you close it", "0: aperta finché non la chiudi"],
  "editor.help.prompts": ["Team 1 writes from the first opening, team 2 from the second…", "La squadra 1 parte dal primo incipit, la 2 dal secondo…"],
  "editor.help.must_include": ["Words the story should use, one per line.", "Parole che la storia deve usare, una per riga."],
  "editor.defaults.title": ["Settings for every riddle", "Impostazioni di ogni indovinello"],
  "editor.defaults.help": ["A riddle can set its own; empty fields use these.", "Ogni indovinello può avere le sue; i campi vuoti usano queste."],
  "editor.typo.auto": ["By the answer's length", "Secondo la lunghezza della risposta"],
  "editor.typo.n": ["{n}", "{n}"],
  "editor.typo.default": ["As the pack's settings", "Come nelle impostazioni del pacchetto"],
  "editor.typo.default_auto": ["Default (by the answer's length)", "Predefinito (secondo la lunghezza)"],
  "editor.numbers.yes": ["The same (12 = twelve)", "Uguali (12 = dodici)"],
  "editor.numbers.no": ["Different", "Diversi"],
  "editor.numbers.default": ["As the pack's settings", "Come nelle impostazioni del pacchetto"],
  "editor.numbers.default_no": ["Default (different)", "Predefinito (diversi)"],
  "editor.visibility.full": ["The whole story so far", "Tutta la storia fin qui"],
  "editor.visibility.chain": ["Only the previous line", "Solo la riga precedente"],
  "editor.round.riddles": ["Round {n}: riddles", "Manche {n}: indovinelli"],
  "editor.round.story": ["Round {n}: a story", "Manche {n}: una storia"],
  "editor.round.move_up": ["Move round {n} up", "Sposta su la manche {n}"],
  "editor.round.move_down": ["Move round {n} down", "Sposta giù la manche {n}"],
  "editor.round.remove": ["Remove round {n}", "Elimina la manche {n}"],
  "editor.move_up": ["Up", "Su"],
  "editor.move_down": ["Down", "Giù"],
  "editor.remove": ["Remove", "Elimina"],
  "editor.add_riddle_round": ["Add a riddle round", "Aggiungi una manche di indovinelli"],
  "editor.add_story_round": ["Add a story round", "Aggiungi una manche di storie"],
  "editor.riddle.title": ["Riddle {n}", "Indovinello {n}"],
  "editor.riddle.add": ["Add a riddle", "Aggiungi un indovinello"],
  "editor.riddle.add_to": ["Add a riddle to round {n}", "Aggiungi un indovinello alla manche {n}"],
  "editor.riddle.move_up": ["Move riddle {n} up", "Sposta su l'indovinello {n}"],
  "editor.riddle.move_down": ["Move riddle {n} down", "Sposta giù l'indovinello {n}"],
  "editor.riddle.remove": ["Remove riddle {n}", "Elimina l'indovinello {n}"],
  "editor.near.title": ["Near answers", "Risposte vicine"],
  "editor.near.add": ["Add a near answer", "Aggiungi una risposta vicina"],
  "editor.near.add_to": ["Add a near answer to riddle {n}", "Aggiungi una risposta vicina all'indovinello {n}"],
  "editor.near.answers": ["Near answers {n}, one per line", "Risposte vicine {n}, una per riga"],
  "editor.near.nudge": ["Nudge {n}", "Suggerimento {n}"],
  "editor.near.remove": ["Remove near answers {n}", "Elimina le risposte vicine {n}"],
  "editor.hint.title": ["Hints", "Aiuti"],
  "editor.hint.add": ["Add a hint", "Aggiungi un aiuto"],
  "editor.hint.add_to": ["Add a hint to riddle {n}", "Aggiungi un aiuto all'indovinello {n}"],
  "editor.hint.text": ["Hint {n}", "Aiuto {n}"],
  "editor.hint.after": ["Hint {n} unlocks after (seconds)", "Aiuto {n} disponibile dopo (secondi)"],
  "editor.hint.cost": ["Hint {n} costs (points)", "Aiuto {n} costa (punti)"],
  "editor.hint.remove": ["Remove hint {n}", "Elimina l'aiuto {n}"],
  "editor.prompt.title": ["Openings", "Incipit"],
  "editor.prompt.add": ["Add an opening", "Aggiungi un incipit"],
  "editor.prompt.add_to": ["Add an opening to round {n}", "Aggiungi un incipit alla manche {n}"],
  "editor.prompt.opening": ["Opening {n}", "Incipit {n}"],
  "editor.prompt.must_include": ["Words to use in story {n}", "Parole da usare nella storia {n}"],
  "editor.prompt.theme": ["Theme of story {n}", "Tema della storia {n}"],
  "editor.prompt.remove": ["Remove opening {n}", "Elimina l'incipit {n}"],
  "editor.try.label": ["Try an answer to riddle {n}", "Prova una risposta all'indovinello {n}"],
  "editor.try.button": ["Try", "Prova"],
  "editor.try.correct": ["Right: it matches “{answer}”.", "Giusta: corrisponde a “{answer}”."],
  "editor.try.near": ["Close: the team reads “{nudge}”", "Vicina: la squadra legge “{nudge}”"],
  "editor.try.near_plain": ["Close: the team reads “You're getting close”", "Vicina: la squadra legge “Ci sei quasi”"],
  "editor.try.wrong": ["Wrong.", "Sbagliata."],
  "editor.try.fix_first": ["Fix the riddle first: {problem}", "Prima correggi l'indovinello: {problem}"],
  "editor.preview.show": ["Preview", "Anteprima"],
  "editor.preview.phone": ["On a player's phone", "Sul telefono di chi gioca"],
  "editor.preview.screen": ["On the shared screen", "Sullo schermo condiviso"],
  "editor.check.title": ["Check and save", "Controlla e salva"],
  "editor.check.checking": ["Checking…", "Controllo…"],
  "editor.check.valid": ["The pack is valid: {n} riddles.", "Il pacchetto è valido: {n} indovinelli."],
  "editor.check.valid_one": ["The pack is valid: 1 riddle.", "Il pacchetto è valido: 1 indovinello."],
  "editor.check.problems": ["{n} problems to fix: each is shown next to its field.", "{n} problemi da correggere: ognuno è accanto al suo campo."],
  "editor.check.problems_one": ["1 problem to fix: it is shown next to its field.", "1 problema da correggere: è accanto al suo campo."],
  "editor.save.download": ["Download as YAML", "Scarica in YAML"],
  "editor.save.downloaded": ["Downloaded {name}.", "Scaricato {name}."],
  "editor.save.room": ["Save to room {code}", "Salva nella stanza {code}"],
  "editor.save.saved": ["Saved: room {code} now plays this pack.", "Salvato: la stanza {code} ora usa questo pacchetto."],
  "editor.save.back_to_console": ["Back to the console", "Torna alla console"],
  "editor.save.start": ["Start a room with this pack", "Apri una stanza con questo pacchetto"],
  "editor.save.room_name": ["Team games", "Giochi di squadra"],
  "editor.save.refused": ["The pack was not saved: fix the problems shown next to the fields.", "Il pacchetto non è stato salvato: correggi i problemi indicati accanto ai campi."],
  "index.host.editor": ["Write your own pack", "Scrivi il tuo pacchetto"],
  "index.host.editor_help": ["Riddles, answers and stories in a form, checked as you type.", "Indovinelli, risposte e storie in un modulo, controllati mentre scrivi."],
  "host.pack_editor": ["Edit in the pack editor", "Modifica nell'editor dei pacchetti"],
  // coffee pairing
  "pairing.title": ["Coffee pairing", "Coffee pairing"],
  "pairing.rotation": ["Coffee pairing · round {n}", "Coffee pairing · giro {n}"],
  "pairing.you_are_with": ["You're with {names}", "Sei con {names}"],
  "pairing.mate": ["{name} (Team {team})", "{name} (squadra {team})"],
  "pairing.and": [" and ", " e "],
  "pairing.breakout": ["Breakout room {n}", "Sala {n}"],
  "pairing.prompt": ["To get you talking", "Per rompere il ghiaccio"],
  "pairing.not_in": ["A coffee pairing is running; you were not here when it started. Ask the host to shuffle it to be included.", "È in corso un coffee pairing; non c'eri quando è iniziato. Chiedi a chi conduce di rimescolare per esserci anche tu."],
  "pairing.groups": ["{n} groups · {people} people", "{n} gruppi · {people} persone"],
  "pairing.find_room": ["Find your breakout room: your phone says where and with whom.", "Cerca la tua sala: il telefono ti dice quale e con chi."],
  "pairing.minutes": ["Minutes", "Minuti"],
  "pairing.mentoring": ["Mentoring: pair newcomers with experienced colleagues", "Mentoring: abbina chi è nuovo a chi ha esperienza"],
  "pairing.start": ["Start coffee pairing", "Avvia il coffee pairing"],
  "pairing.shuffle": ["Shuffle again", "Rimescola"],
  "pairing.end": ["End pairing", "Termina il pairing"],
  "pairing.help": ["Pairs the players present now, across teams, with no repeats in this session; an odd number makes one trio.", "Abbina i giocatori presenti, tra squadre diverse e senza ripetere le coppie della sessione; con un numero dispari c'è un terzetto."],
  "pairing.list": ["Breakout rooms to copy into the meeting tool", "Sale da copiare nello strumento di riunione"],
  "pairing.round_running": ["Coffee pairing waits for the round to end.", "Il coffee pairing aspetta la fine della manche."],
  "mentoring.legend": ["For mentoring pairs, I am…", "Per le coppie di mentoring, sono…"],
  "mentoring.newcomer": ["new here", "nuovo/a qui"],
  "mentoring.experienced": ["experienced", "con esperienza"],
  "mentoring.none": ["no preference", "nessuna preferenza"],
  "err.too_few_players": ["A pairing needs at least two players present.", "Per il pairing servono almeno due giocatori presenti."],
  "err.pairing_running": ["A pairing is already running: end it first.", "C'è già un pairing in corso: terminalo prima."],
  "err.no_pairing": ["No pairing is running.", "Nessun pairing in corso."],
};

export let lang = pickLanguage();

function pickLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && LANGS[saved]) return saved;
  } catch {
    /* storage blocked */
  }
  const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGS[base]) return base;
  }
  return "en";
}

/**
 * @typedef {Record<string, string | number | null | undefined>} Params
 */

/**
 * The UI text for `key` in the current language, with {name} filled from params.
 * @param {string} key
 * @param {Params} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  // Plurals: "key_one" when params.n === 1 and such a key exists.
  let entry = params.n === 1 && D[`${key}_one`] ? D[`${key}_one`] : D[key];
  if (!entry) {
    console.warn("i18n: missing key", key);
    return key;
  }
  const text = entry[lang === "it" ? 1 : 0];
  return text.replace(/\{(\w+)\}/g, (_, /** @type {string} */ name) => (params[name] === undefined ? `{${name}}` : String(params[name])));
}

/** @param {string} next */
export function setLang(next) {
  if (!LANGS[next] || next === lang) return;
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* ignore */
  }
  applyStatic();
  document.dispatchEvent(new CustomEvent("langchange", { detail: { lang } }));
}

/**
 * Translate static markup: [data-i18n] text and [data-i18n-attr] attributes.
 * @param {ParentNode} [root]
 */
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n || "");
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of (/** @type {HTMLElement} */ (el).dataset.i18nAttr || "").split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  for (const sw of root.querySelectorAll(".lang-switch button")) {
    sw.setAttribute("aria-pressed", String(/** @type {HTMLElement} */ (sw).dataset.lang === lang));
  }
}

/**
 * A visible language switch: two toggle buttons, EN / IT. Each one's name
 * starts with what it shows ("IT Italiano": voice control users say what they
 * see, WCAG 2.5.3), the language's own name said only to screen readers.
 */
export function langSwitch() {
  const group = h("div", { class: "lang-switch", role: "group", "aria-label": t("lang.switch"), "data-i18n-attr": "aria-label:lang.switch" });
  for (const [code, name] of Object.entries(LANGS)) {
    group.appendChild(
      h(
        "button",
        {
          type: "button",
          lang: code,
          title: name,
          "aria-pressed": String(code === lang),
          dataset: { lang: code },
          onclick: () => setLang(code),
        },
        code.toUpperCase(),
        h("span", { class: "visually-hidden" }, ` ${name}`),
      ),
    );
  }
  return group;
}

/** Mount the switch in every [data-lang-switch] placeholder and translate the page. */
export function initI18n() {
  for (const slot of document.querySelectorAll("[data-lang-switch]")) slot.replaceChildren(langSwitch());
  applyStatic();
}
