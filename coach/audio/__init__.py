"""The audio stage: sounds and speech clips mixed into one timeline of samples (sounds, mixer.Mixer, pcm, wavfile)."""
